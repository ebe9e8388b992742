"""Shared machinery of the experiment tools (``tools/demo.py``, ``tools/compare.py``): the toy
data, a toy config pointed at a data root and work dir, and the :class:`TimeBudget` hook."""

import os.path as osp
import time
from collections import Counter
from typing import Optional

from mmdet.registry import HOOKS
from mmengine.hooks import Hook

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def ensure_data(data_root: str, quick: bool) -> None:
    """Generate the toy dataset into ``data_root`` unless it is there and up to date.

    The full demo calls the generator with its defaults every time: it returns at once when
    ``data_root`` holds the same dataset and regenerates one from an older generator.
    """
    from mmpsla.datasets import make_toy_vid

    if quick:
        if osp.isfile(osp.join(data_root, 'annotations', 'val.json')):
            return
        make_toy_vid(
            data_root, seed=0, num_train_videos=3, num_val_videos=2, num_frames=12, progress=False
        )
        return
    print(f'==> toy dataset in {data_root} (generated when missing or outdated)', flush=True)
    make_toy_vid(data_root, seed=0, progress=False)


def build_cfg(cfg_path: str, data_root: str, work_dir: str, iters: Optional[int]):
    """A toy config (path relative to the repository, or absolute) trained on ``data_root``.

    Data paths and evaluators point at ``data_root``, the work dir is ``work_dir``,
    ``iters`` (if given) replaces ``max_iters``, a checkpoint is saved at the end, nothing
    is validated while training and logging is quiet.
    """
    from mmengine.config import Config

    cfg = Config.fromfile(cfg_path if osp.isabs(cfg_path) else osp.join(ROOT, cfg_path))
    root = data_root.rstrip('/') + '/'
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        cfg[loader].dataset.data_root = root
    for evaluator in ('val_evaluator', 'test_evaluator'):
        cfg[evaluator].ann_file = root + 'annotations/val.json'
    cfg.work_dir = work_dir
    if iters is not None:
        cfg.train_cfg.max_iters = iters
        cfg.default_hooks.logger.interval = max(1, min(cfg.default_hooks.logger.interval, iters))
    cfg.default_hooks.checkpoint.interval = cfg.train_cfg.max_iters
    cfg.train_cfg.val_begin = 10**9  # the demo tests once, after training
    cfg.log_level = 'WARNING'
    return cfg


@HOOKS.register_module()
class TimeBudget(Hook):
    """Runner hook: shorten training so that it ends ``budget_s`` seconds after it began.

    The time per iteration is measured over iterations ``skip`` to ``skip + calib``; the
    loop's ``max_iters`` is lowered (never raised) and the ``MultiStepLR`` milestones are
    moved to ``decay_at`` of the new length.
    """

    priority = 'VERY_LOW'

    def __init__(self, budget_s: float, skip: int = 3, calib: int = 12, decay_at=0.75):
        self.budget_s, self.skip, self.calib, self.decay_at = budget_s, skip, calib, decay_at
        self.start = self.t0 = None

    def before_train(self, runner):
        self.start = time.perf_counter()

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
        done = runner.iter + 1
        if done == self.skip:
            self.t0 = time.perf_counter()
        if done != self.skip + self.calib:
            return
        now = time.perf_counter()
        per_iter = (now - self.t0) / self.calib
        loop = runner.train_loop
        left = int((self.budget_s - (now - self.start)) / per_iter)
        new_max = max(min(loop.max_iters, done + left), done + 1)
        if new_max < loop.max_iters:
            loop._max_iters = new_max
            for scheduler in runner.param_schedulers:
                if hasattr(scheduler, 'milestones'):
                    scheduler.milestones = Counter({int(self.decay_at * new_max): 1})
        print(f'    {per_iter:.2f} s/iter -> {loop.max_iters} iterations', flush=True)

"""A short mmengine Runner training of the toy PSLA (c) config: the loss goes down."""

import glob
import json
import os.path as osp

import pytest


@pytest.mark.slow
def test_runner_training_decreases_the_loss(tiny_toy_root, write_toy_config, tmp_path):
    from mmengine.config import Config
    from mmengine.runner import Runner

    cfg = Config.fromfile(
        str(write_toy_config(tmp_path, 'toy/psla_c_toy.py', tiny_toy_root, max_iters=40))
    )
    cfg.work_dir = str(tmp_path / 'work')
    cfg.log_level = 'WARNING'
    cfg.train_cfg.val_begin = 10**9  # no validation at the end
    Runner.from_cfg(cfg).train()
    (scalars,) = glob.glob(osp.join(cfg.work_dir, '*', 'vis_data', 'scalars.json'))
    with open(scalars) as f:
        losses = [json.loads(line)['loss'] for line in f if '"loss"' in line]
    assert len(losses) == 40
    first, last = sum(losses[:8]) / 8, sum(losses[-8:]) / 8
    assert last < 0.8 * first, (first, last)
    assert osp.isfile(osp.join(cfg.work_dir, 'iter_40.pth'))

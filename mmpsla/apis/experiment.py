"""Shared machinery of the experiment tools (``tools/demo.py``, ``tools/compare.py``).

* the toy data (:func:`ensure_data`) and a toy config pointed at a data root and work dir
  (:func:`build_cfg`);
* progress on long work: :class:`ProgressHook` (one line per N training iterations or test
  frames: iteration, loss, s/it, time left) and :class:`StageTimes` (how long each stage took);
* the paper's training recipe on the toy set: a pretrained N_f standing in for the
  ImageNet-pretrained backbone (:func:`ensure_pretrained_nf`, cached on disk, one checkpoint
  for every method and seed) and loaded into any toy config (:func:`apply_pretrained_nf`);
* :class:`TimeBudget`, which shortens a schedule to fit a wall-time budget.
"""

import argparse
import hashlib
import json
import os
import os.path as osp
import time
from collections import Counter
from contextlib import contextmanager
from typing import Dict, List, Optional

from mmdet.registry import HOOKS
from mmengine.hooks import Hook

from mmpsla.utils.atomic_io import atomic_dump_json, atomic_write, atomic_write_text

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))

#: The stage that stands in for ImageNet pretraining: the toy frame detector (N_f + RPN +
#: RoI head) trained on the train split's labelled frames; only N_f is kept (see the config).
NF_PRETRAIN_CONFIG = 'configs/toy/nf_pretrain_toy.py'
#: The same stage for video segmentation: the toy frame-baseline segmentor (N_f + ASPP head)
#: trained on the toy seg train split's annotated frames; only N_f is kept.
SEG_NF_PRETRAIN_CONFIG = 'configs/seg/toy/nf_pretrain_toy_seg.py'
#: Where the pretrained N_f is cached (one file per pretraining recipe and toy train set).
NF_CACHE_DIR = 'work_dirs/pretrained_nf'


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


def build_cfg(
    cfg_path: str,
    data_root: str,
    work_dir: str,
    iters: Optional[int],
    seed: Optional[int] = None,
):
    """A toy config (path relative to the repository, or absolute) trained on ``data_root``.

    Detection (toy VID) and segmentation (toy seg) configs alike: data paths and
    evaluators point at ``data_root``, the work dir is ``work_dir``, ``iters`` (if given)
    replaces ``max_iters``, moves the LR step to 75 % of it and stretches a scheduler that
    ended at the old ``max_iters`` (the seg configs' ``PolyLR``) to the new one,
    ``seed`` (if given) replaces ``randomness.seed``, a checkpoint is saved at the end,
    nothing is validated while training and the mmengine logger is quiet (progress comes
    from :class:`ProgressHook`, which the tools register).
    """
    from mmengine.config import Config

    cfg = Config.fromfile(cfg_path if osp.isabs(cfg_path) else osp.join(ROOT, cfg_path))
    root = data_root.rstrip('/') + '/'
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        cfg[loader].dataset.data_root = root
    for evaluator in ('val_evaluator', 'test_evaluator'):
        if 'ann_file' in cfg[evaluator]:  # VIDMetric; mmseg's IoU metrics read the dataset
            cfg[evaluator].ann_file = root + 'annotations/val.json'
    cfg.work_dir = work_dir
    if iters is not None:
        old_iters = cfg.train_cfg.max_iters
        cfg.train_cfg.max_iters = iters
        cfg.default_hooks.logger.interval = max(1, min(cfg.default_hooks.logger.interval, iters))
        for scheduler in cfg.get('param_scheduler', None) or []:
            if scheduler.get('type') == 'MultiStepLR':
                scheduler.milestones = [max(1, int(0.75 * iters))]
            elif scheduler.get('end') == old_iters:  # a decay over the whole run (PolyLR)
                scheduler.end = iters
                scheduler.begin = min(scheduler.get('begin', 0), iters - 1)  # smoke runs
    if seed is not None:
        cfg.randomness = dict(cfg.get('randomness', None) or {}, seed=seed)
    cfg.default_hooks.checkpoint.interval = cfg.train_cfg.max_iters
    cfg.train_cfg.val_begin = 10**9  # the tools test once, after training
    cfg.log_level = 'WARNING'
    # several Runners share this process: a fixed visualizer name (mmdet's and mmtrack's
    # runtimes set 'visualizer') would send every run's scalars to the first run's folder
    if cfg.get('visualizer') is not None:
        cfg.visualizer.pop('name', None)
    cfg.experiment_name = f'{osp.splitext(osp.basename(cfg_path))[0]}_seed{seed}_{iters}it'
    return cfg


def format_duration(seconds: float) -> str:
    """``42s``, ``3m05s``, ``1h02m``."""
    seconds = max(0, int(round(seconds)))
    if seconds < 60:
        return f'{seconds}s'
    if seconds < 3600:
        return f'{seconds // 60}m{seconds % 60:02d}s'
    return f'{seconds // 3600}h{seconds % 3600 // 60:02d}m'


@HOOKS.register_module()
class ProgressHook(Hook):
    """Runner hook: one progress line every ``interval`` training iterations and every
    ``test_interval`` test frames, independent of the logger's level.

    Training lines: ``[stage] train 200/600  loss 0.734  0.41 s/it  1m22s done, ~2m44s
    left`` (the loss is the mean of the total loss since the previous line). Test lines:
    ``[stage] test 100/300 frames  ...``. The last iteration / frame always prints.

    Args:
        stage (str): Name printed in brackets (e.g. ``PSLA (c) seed 1``).
        interval (int): Training iterations per line. Defaults to 50.
        test_interval (int): Test frames per line. Defaults to 100.
    """

    priority = 'BELOW_NORMAL'

    def __init__(self, stage: str, interval: int = 50, test_interval: int = 100) -> None:
        if interval < 1 or test_interval < 1:
            raise ValueError(
                f'ProgressHook: interval and test_interval must be >= 1, got {interval} and '
                f'{test_interval}'
            )
        self.stage, self.interval, self.test_interval = stage, interval, test_interval
        self._start = self._first = None
        self._losses = []

    def _line(self, kind: str, done: int, total: int, extra: str) -> None:
        elapsed = time.perf_counter() - self._start
        per = elapsed / max(done - self._first, 1)
        left = per * (total - done)
        rate = f'{per:.2f} s/it' if kind == 'train' else f'{1 / per if per else 0:.1f} frames/s'
        print(
            f'    [{self.stage}] {kind} {done}/{total}{extra}  {rate}  '
            f'{format_duration(elapsed)} done, ~{format_duration(left)} left',
            flush=True,
        )

    def before_train(self, runner) -> None:
        self._start, self._first, self._losses = time.perf_counter(), runner.iter, []

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None) -> None:
        if outputs and 'loss' in outputs:
            loss = outputs['loss']
            self._losses.append(float(loss.detach() if hasattr(loss, 'detach') else loss))
        done, total = runner.iter + 1, runner.train_loop.max_iters
        if done % self.interval and done != total:
            return
        loss = sum(self._losses) / len(self._losses) if self._losses else float('nan')
        self._losses = []
        self._line('train', done, total, f'  loss {loss:.3f}')

    def before_test(self, runner) -> None:
        self._start, self._first = time.perf_counter(), 0

    def after_test_iter(self, runner, batch_idx, data_batch=None, outputs=None) -> None:
        done, total = batch_idx + 1, len(runner.test_dataloader)
        if done % self.test_interval and done != total:
            return
        self._line('test', done, total, ' frames')


class StageTimes:
    """Wall time of each named stage of a tool, in order; prints when a stage starts / ends.

    Use ``with times('train PSLA (c)'): ...``; :meth:`table` gives a Markdown table.
    """

    def __init__(self) -> None:
        self.seconds: Dict[str, float] = {}

    @contextmanager
    def __call__(self, name: str):
        print(f'==> {name}', flush=True)
        start = time.perf_counter()
        try:
            yield
        finally:
            elapsed = time.perf_counter() - start
            self.seconds[name] = self.seconds.get(name, 0.0) + elapsed  # a repeated stage sums
            print(f'    {name}: {format_duration(elapsed)}', flush=True)

    def table(self) -> str:
        lines = ['| stage | wall time |', '|---|---|']
        lines += [f'| {name} | {format_duration(s)} |' for name, s in self.seconds.items()]
        lines.append(f'| total | {format_duration(sum(self.seconds.values()))} |')
        return '\n'.join(lines)


def train_and_test(runner, label: str, times: StageTimes, train: bool = True, note: str = ''):
    """``runner.train()`` (unless ``train`` is False) and ``runner.test()``, each a timed
    stage (``train {label}{note}``, ``test {label}``); the model is left in eval mode.

    Returns:
        tuple: The test metrics (dict) and the training wall time in seconds (0 untrained).
    """
    train_s = 0.0
    if train:
        name = f'train {label}{note}'
        with times(name):
            runner.train()
        train_s = times.seconds[name]
    with times(f'test {label}'):
        metrics = runner.test()
    runner.model.eval()
    return metrics, train_s


def _sha256_file(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, 'rb') as f:
        for chunk in iter(lambda: f.read(1 << 20), b''):
            digest.update(chunk)
    return digest.hexdigest()


def train_split_digest(cfg, data_root: str) -> str:
    """SHA-256 of the train split that ``cfg`` trains on.

    Detection: its annotation file (``annotations/train.json``). Segmentation (CityScapes
    layout, no annotation file): every file under the train dataset's ``data_prefix``
    folders (frames and label maps), names and contents, in sorted order.
    """
    dataset = cfg.train_dataloader.dataset
    if dataset.get('ann_file'):
        return _sha256_file(osp.join(data_root, dataset.ann_file))
    folders = sorted(set((dataset.get('data_prefix') or {}).values()))
    if not folders:
        raise ValueError(
            'train_split_digest: the train dataset has neither ann_file nor data_prefix'
        )
    digest = hashlib.sha256()
    for folder in folders:
        top = osp.join(data_root, folder)
        if not osp.isdir(top):
            raise FileNotFoundError(
                f'train split folder not found: {top} (generate the toy set first)'
            )
        for dirpath, dirnames, filenames in os.walk(top):
            dirnames.sort()
            for name in sorted(filenames):
                path = osp.join(dirpath, name)
                digest.update(osp.relpath(path, data_root).encode())
                digest.update(_sha256_file(path).encode())
    return digest.hexdigest()


def nf_fingerprint(cfg, data_root: str) -> str:
    """What determines the pretrained N_f: the model, data pipeline, optimiser, schedule,
    seed and the train split (:func:`train_split_digest`; 12 hex digits). Work dir,
    logging and checkpoint intervals do not enter it."""
    from mmengine.config import ConfigDict

    def plain(value):
        return value.to_dict() if isinstance(value, ConfigDict) else value

    recipe = {
        key: plain(cfg.get(key))
        for key in ('model', 'optim_wrapper', 'param_scheduler', 'randomness')
    }
    recipe['train_pipeline'] = plain(cfg.train_dataloader.dataset.pipeline)
    recipe['batch_size'] = cfg.train_dataloader.batch_size
    recipe['max_iters'] = cfg.train_cfg.max_iters
    recipe['train_ann'] = train_split_digest(cfg, data_root)
    text = json.dumps(recipe, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def ensure_pretrained_nf(
    data_root: str,
    cache_dir: str = NF_CACHE_DIR,
    iters: Optional[int] = None,
    cfg_path: str = NF_PRETRAIN_CONFIG,
    progress_interval: int = 100,
    init_from: Optional[str] = None,
) -> str:
    """The pretrained N_f for ``data_root``'s train split: trained once, then reused.

    The stand-in for the paper's ImageNet-pretrained N_f (Sec. 4.1): ``cfg_path`` (the toy
    frame detector, or with :data:`SEG_NF_PRETRAIN_CONFIG` the toy frame segmentor on
    ``data_root`` = the toy seg set) is trained with its own fixed seed; its backbone
    (``PSLAResNet``: N_l, the rest of N_f and the feature conv) and its heads are saved as
    ``{cache_dir}/nf_<fingerprint>.pth`` (keys ``backbone.*``, ``rpn_head.*`` /
    ``roi_head.*`` or ``decode_head.*``; mmengine checkpoint format). The paper's recipe
    reads the backbone only (:func:`apply_pretrained_nf`: like ImageNet weights, heads start
    from their own initialisation); :func:`apply_pretrained_heads` reads the heads too.
    Every method and every seed starts from this one file. A file with the same fingerprint
    (:func:`nf_fingerprint`) is reused as is.

    ``init_from`` (a second stage, :func:`ensure_pretrained_heads`): the frame model starts
    from that checkpoint (mmengine ``load_from``: every weight whose name and shape match;
    its file name enters the fingerprint).

    Returns:
        str: Path of the N_f checkpoint.
    """
    import torch
    from mmengine.runner import Runner

    cfg = build_cfg(cfg_path, data_root, osp.join(cache_dir, 'run'), iters)
    fingerprint = nf_fingerprint(cfg, data_root)
    if init_from is not None:
        if not osp.isfile(init_from):
            raise FileNotFoundError(f'init_from: no such checkpoint {init_from}')
        cfg.load_from = init_from
        fingerprint = hashlib.sha256(
            f'{fingerprint} {osp.basename(init_from)}'.encode()
        ).hexdigest()[:12]
    path = osp.join(cache_dir, f'nf_{fingerprint}.pth')
    if osp.isfile(path):
        print(f'    pretrained N_f: reusing {path}', flush=True)
        return path
    start_from = f', starting from {init_from}' if init_from else ''
    print(
        f'    pretrained N_f: training the frame model {cfg.train_cfg.max_iters} iterations '
        f'({cfg_path}{start_from}); kept: the whole frame model (N_f, and the heads for '
        '--pretrained-heads)',
        flush=True,
    )
    runner = Runner.from_cfg(cfg)
    runner.register_hook(ProgressHook('pretrain N_f', progress_interval))
    start = time.perf_counter()
    runner.train()
    state = {k: v.detach().clone() for k, v in runner.model.state_dict().items()}
    os.makedirs(cache_dir, exist_ok=True)
    meta = dict(
        config=cfg_path,
        iters=cfg.train_cfg.max_iters,
        seed=cfg.randomness.seed,
        init_from=init_from,
        train_s=time.perf_counter() - start,
        torch_threads=torch.get_num_threads(),
    )
    with atomic_write(path, 'wb') as f:
        torch.save({'state_dict': state, 'meta': meta}, f)
    atomic_dump_json(meta, path[: -len('.pth')] + '.json', indent=2)
    print(f'    pretrained N_f: {path}', flush=True)
    return path


def add_recipe_arguments(parser, heads_default: bool = False) -> None:
    """The tools' options for the training recipe and progress: ``--pretrained``,
    ``--[no-]pretrained-heads``, ``--pretrain-iters``, ``--log-interval`` (checked by
    :func:`check_recipe_arguments`).

    Args:
        heads_default: whether the heads start from the pretrained frame model when
            ``--pretrained auto`` and neither ``--pretrained-heads`` nor
            ``--no-pretrained-heads`` is given (detection tools: True, measured; see the
            README's "Toy demo").
    """
    parser.add_argument(
        '--pretrained',
        default='auto',
        help="N_f initialisation: 'auto' (pretrained once on the toy train split, cached in "
        f"{NF_CACHE_DIR}), 'none' (from scratch) or a checkpoint (keys backbone.*, and the "
        'heads for --pretrained-heads)',
    )
    default = (
        "default with --pretrained auto: on (the toy recipe's)"
        if heads_default
        else 'default: off (N_f only, as in the paper)'
    )
    parser.add_argument(
        '--pretrained-heads',
        action=argparse.BooleanOptionalAction,
        default=None,
        help='also initialise the heads (RPN + RoI head, or the decode head) of every method '
        f'from the pretrained frame model ({default})',
    )
    parser.set_defaults(pretrained_heads_default=heads_default)
    parser.add_argument(
        '--pretrain-iters',
        type=int,
        default=None,
        help="iterations of the N_f pretraining (default: its config's, 1500 for detection, "
        '800 for segmentation)',
    )
    parser.add_argument(
        '--log-interval', type=int, default=50, help='training iterations per progress line'
    )


def add_study_arguments(parser, methods, default_methods, kfl_default, kfl_help: str) -> None:
    """The comparison tools' options for what is trained and how often (``tools/compare.py``,
    ``tools/demo_seg.py``): ``--methods``, ``--checkpoints``, ``--seeds``, ``--first-seed``,
    ``--key-frame-loss-weight``, ``--from-json`` (checked by :func:`check_study_arguments`)."""
    parser.add_argument(
        '--methods',
        nargs='+',
        default=list(default_methods),
        choices=list(methods),
        help=f'methods to train and compare (default: {" ".join(default_methods)})',
    )
    parser.add_argument(
        '--checkpoints',
        nargs='+',
        default=None,
        metavar='METHOD=PATH',
        help='test these checkpoints instead of training the methods (one seed)',
    )
    parser.add_argument(
        '--seeds',
        type=int,
        default=1,
        help='train and test every method with seeds --first-seed .. +N-1 and aggregate '
        '(default: 1)',
    )
    parser.add_argument('--first-seed', type=int, default=0, help='first seed of --seeds')
    parser.add_argument('--key-frame-loss-weight', type=float, default=kfl_default, help=kfl_help)
    parser.add_argument(
        '--from-json',
        nargs='+',
        default=None,
        metavar='JSON',
        help='no training: aggregate the seeds of earlier runs (their .json results)',
    )


def check_study_arguments(args, methods) -> None:
    """Exit with a message naming the option when a study option is unusable; turns
    ``args.checkpoints`` into ``{method: path}``."""
    if args.seeds < 1:
        raise SystemExit(f'--seeds: expected a number of seeds >= 1, got {args.seeds}')
    if args.iters is not None and args.iters < 1:
        raise SystemExit(f'--iters: expected >= 1, got {args.iters}')
    weight = args.key_frame_loss_weight
    if weight is not None and weight < 0:
        raise SystemExit(f'--key-frame-loss-weight: expected >= 0, got {weight}')
    if len(set(args.methods)) != len(args.methods):
        raise SystemExit(f'--methods: a method is named twice: {args.methods}')
    args.checkpoints = parse_method_pairs(args.checkpoints, '--checkpoints', methods)
    for name, path in args.checkpoints.items():
        if not osp.isfile(path):
            raise SystemExit(f'--checkpoints: {name}: no such file {path}')
        if name not in args.methods:
            raise SystemExit(f'--checkpoints: {name} is not among --methods {args.methods}')
    if args.seeds > 1 and args.checkpoints:
        raise SystemExit('--seeds N > 1 trains every method per seed; drop --checkpoints')


def check_recipe_arguments(args) -> None:
    """Exit with a message naming the option when a recipe option is unusable."""
    if args.log_interval < 1:
        raise SystemExit(f'--log-interval: expected >= 1, got {args.log_interval}')
    if args.pretrain_iters is not None and args.pretrain_iters < 1:
        raise SystemExit(f'--pretrain-iters: expected >= 1, got {args.pretrain_iters}')
    if args.pretrained_heads is None:  # not given: the tool's default, with 'auto' only
        default = getattr(args, 'pretrained_heads_default', False)
        args.pretrained_heads = bool(default and args.pretrained == 'auto')
    if args.pretrained_heads and args.pretrained == 'none':
        raise SystemExit(
            '--pretrained-heads reads the heads of the pretrained frame model; it needs '
            "--pretrained auto or a frame-model checkpoint, not 'none'"
        )
    if args.pretrained not in ('auto', 'none') and not osp.isfile(args.pretrained):
        raise SystemExit(
            f"--pretrained: no such file {args.pretrained} (give 'auto', 'none' or an N_f "
            'checkpoint)'
        )


def resolve_nf(
    args, data_root: str, times: 'StageTimes', cfg_path: str = NF_PRETRAIN_CONFIG
) -> Optional[str]:
    """The N_f checkpoint the tool's methods start from (None: from scratch).

    ``--pretrained auto`` pretrains ``cfg_path`` (detection: :data:`NF_PRETRAIN_CONFIG`,
    segmentation: :data:`SEG_NF_PRETRAIN_CONFIG`) on ``data_root`` once
    (:func:`ensure_pretrained_nf`; with ``--quick`` 4 iterations into
    ``{work_dir}/pretrained_nf``), timed as a stage.
    """
    if args.pretrained == 'none':
        return None
    if args.pretrained != 'auto':
        return args.pretrained
    if not data_root:
        raise SystemExit(
            "--pretrained auto pretrains on the toy set; with --data-root '' give an N_f "
            'checkpoint or none'
        )
    kwargs = dict(iters=args.pretrain_iters, progress_interval=args.log_interval, cfg_path=cfg_path)
    if args.quick:  # a tiny, throw-away N_f next to the quick run's outputs
        kwargs.update(cache_dir=osp.join(args.work_dir, 'pretrained_nf'))
        kwargs['iters'] = args.pretrain_iters or 4
    with times('pretrain N_f (stand-in for ImageNet weights; cached)'):
        return ensure_pretrained_nf(data_root, **kwargs)


def parse_method_pairs(values, option: str, methods) -> Dict[str, str]:
    """``['a=b', ...]`` (a tool's ``METHOD=VALUE`` option) -> ``{'a': 'b'}``; a method not
    in ``methods`` or an empty value exits with a message naming ``option``."""
    out = {}
    for item in values or []:
        name, sep, value = item.partition('=')
        if not sep or name not in methods or not value:
            raise SystemExit(
                f'{option}: expected METHOD=VALUE with METHOD in {sorted(methods)}, got {item!r}'
            )
        out[name] = value
    return out


def checkpoint_iter(path: str) -> int:
    """Training iterations recorded in an mmengine checkpoint (0 if it has none)."""
    import torch

    meta = torch.load(path, map_location='cpu').get('meta', {})  # mmpsla allow-lists it
    return int(meta.get('iter', 0) or 0)


def write_results(work_dir: str, stem: str, text: str, payload: dict) -> None:
    """``{work_dir}/{stem}.md`` (``text``) and ``{stem}.json`` (``payload``)."""
    atomic_write_text(osp.join(work_dir, f'{stem}.md'), text + '\n')
    atomic_dump_json(payload, osp.join(work_dir, f'{stem}.json'), indent=2)


#: File stem of one finished seed of a multi-seed study (:func:`write_seed_result`).
SEED_RESULT = 'seed_result'


def write_seed_result(work_dir: str, seed: int, text: str, rows: list) -> str:
    """One finished seed of a multi-seed study, written as soon as it is done.

    ``{work_dir}/seed{seed}/seed_result.md`` (``text``) and ``.json`` (``{"rows": rows}``, the
    single-seed layout), so a study stopped half-way keeps every finished seed and
    ``--from-json {work_dir}/seed*/seed_result.json`` merges them.

    Returns:
        str: The JSON path.
    """
    sub = osp.join(work_dir, f'seed{seed}')
    os.makedirs(sub, exist_ok=True)
    write_results(sub, SEED_RESULT, text, dict(rows=rows))
    return osp.join(sub, f'{SEED_RESULT}.json')


def write_seed_study(work_dir: str, text: str, rows_by_seed: dict, summary: dict, **meta) -> None:
    """A whole seed study: ``{work_dir}/seeds.md`` (``text``) and ``seeds.json``
    (``{"seeds": {"<seed>": rows}, "summary": ..., **meta}``, the layout ``--from-json`` reads)."""
    seeds = {str(s): rows for s, rows in rows_by_seed.items()}
    write_results(work_dir, 'seeds', text, dict(seeds=seeds, summary=summary, **meta))


def _config_dicts(node, match):
    """Every (nested) config dict inside ``node`` for which ``match(dict)`` holds."""
    if isinstance(node, dict):
        if match(node):
            yield node
        for value in node.values():
            yield from _config_dicts(value, match)
    elif isinstance(node, (list, tuple)):
        for value in node:
            yield from _config_dicts(value, match)


def _backbones(node):
    """Every ``PSLAResNet`` config dict inside a (nested) model config."""
    return _config_dicts(node, lambda d: d.get('type') == 'PSLAResNet')


def apply_pretrained_nf(cfg, checkpoint: str) -> int:
    """Initialise every N_f (``PSLAResNet``) of ``cfg.model`` from ``checkpoint``.

    Sets the backbone's ``init_cfg`` to mmengine's ``Pretrained`` initialiser with
    ``prefix='backbone.'``, so it reads the N_f file of :func:`ensure_pretrained_nf` or a
    whole frame-detector checkpoint alike; the Runner loads it when training starts
    (``model.init_weights()``), whatever wraps the backbone (``model.backbone`` for PSLA and
    the frame baseline, ``model.detector.backbone`` for DFF / FGFA / SELSA).

    Returns:
        int: The number of backbones set (a model without one raises ``ValueError``).
    """
    if not osp.isfile(checkpoint):
        raise FileNotFoundError(f'pretrained N_f checkpoint not found: {checkpoint}')
    found = list(_backbones(cfg.model))
    if not found:
        raise ValueError(
            f'apply_pretrained_nf: no PSLAResNet backbone in model type {cfg.model.get("type")}'
        )
    for backbone in found:
        backbone['init_cfg'] = dict(type='Pretrained', checkpoint=checkpoint, prefix='backbone.')
    return len(found)


#: The heads of a frame model (detector or segmentor) that :func:`apply_pretrained_heads`
#: initialises from the pretrained frame model, each from the checkpoint keys ``<name>.*``.
HEAD_KEYS = ('rpn_head', 'roi_head', 'decode_head', 'auxiliary_head')


def _frame_models(node):
    """Every (nested) model config dict that has a ``backbone``: the model itself, or the
    per-frame detector that DFF / FGFA / SELSA wrap (``model.detector``)."""
    return _config_dicts(node, lambda d: isinstance(d.get('backbone'), dict))


def apply_pretrained_heads(cfg, checkpoint: str) -> List[str]:
    """Initialise the heads of every frame model in ``cfg.model`` from ``checkpoint``.

    The toy recipe's option beyond the paper's (``--pretrained-heads``): besides N_f
    (:func:`apply_pretrained_nf`), each head in :data:`HEAD_KEYS` that the model has
    (RPN + RoI head, or the decode head) gets mmengine's ``Pretrained`` initialiser with
    ``prefix='<head>.'``, so every method starts from the whole pretrained frame model
    (:func:`ensure_pretrained_nf`'s file, or any frame-model checkpoint with the same
    heads). Heads whose shapes differ (e.g. SELSA's aggregating RoI head) are loaded where
    the shapes match; mmengine logs the others.

    Returns:
        list[str]: The heads set, e.g. ``['rpn_head', 'roi_head']``.

    Raises:
        ValueError: ``checkpoint`` has no weights for a head the model has (an N_f-only
            file: pretrain again, or give a whole frame-model checkpoint).
    """
    import torch

    if not osp.isfile(checkpoint):
        raise FileNotFoundError(f'pretrained frame-model checkpoint not found: {checkpoint}')
    state = torch.load(checkpoint, map_location='cpu', weights_only=False)
    keys = list(state.get('state_dict', state))
    done = []
    for model in _frame_models(cfg.model):
        for head in HEAD_KEYS:
            if not isinstance(model.get(head), dict):
                continue
            prefix = f'{head}.'
            if not any(k.startswith(prefix) for k in keys):
                raise ValueError(
                    f'{checkpoint} has no {prefix}* weights for the {head} of model type '
                    f'{model.get("type")}: it holds an N_f only; delete it so that '
                    '--pretrained auto trains the frame model again, or give a whole '
                    'frame-model checkpoint'
                )
            model[head]['init_cfg'] = dict(type='Pretrained', checkpoint=checkpoint, prefix=prefix)
            done.append(head)
    if not done:
        raise ValueError(
            f'apply_pretrained_heads: no head among {HEAD_KEYS} in model type '
            f'{cfg.model.get("type")}'
        )
    return done


def ensure_pretrained_heads(
    cfg,
    nf_checkpoint: str,
    data_root: str,
    progress_interval: int = 100,
    iters: Optional[int] = None,
) -> str:
    """The frame-model checkpoint a method starts from under ``--pretrained-heads``.

    ``nf_checkpoint`` (the first stage, :func:`ensure_pretrained_nf`: the toy frame detector,
    RPN + Faster R-CNN RoI head) unless the method's config names another frame detector in
    ``pretrained_heads_config`` (the R-FCN configs: ``configs/toy/frame_baseline_rfcn_toy.py``),
    whose heads differ. That detector is then trained as a second stage on top of the first
    (its N_f and RPN start from ``nf_checkpoint``, its own RoI head from its initialisation;
    ``iters`` iterations, by default the frame detector config's own schedule, as long as
    the first stage's, so its RoI head trains as long as the first stage's; measured:
    600 iterations left the toy R-FCN 5.9 points behind, README), cached next to
    ``nf_checkpoint`` and reused, so the method reads backbone and heads of its own type.
    """
    frame_cfg = cfg.get('pretrained_heads_config', None)
    if not frame_cfg:
        return nf_checkpoint
    return ensure_pretrained_nf(
        data_root,
        cache_dir=osp.dirname(nf_checkpoint) or '.',
        iters=iters,
        cfg_path=frame_cfg,
        progress_interval=progress_interval,
        init_from=nf_checkpoint,
    )


def check_pretrained_heads(model, checkpoint: str, heads: List[str]) -> None:
    """Fail when a head that ``--pretrained-heads`` initialises from ``checkpoint`` would
    find none of its weights there (mmengine's ``Pretrained`` initialiser loads matching
    names and shapes only, so a head of another type would silently keep its random
    initialisation: e.g. an R-FCN RoI head from the Faster R-CNN frame detector).

    Args:
        model (nn.Module): The built model (its frame model's heads are named ``<head>``
            or ``detector.<head>`` in its state dict).
        checkpoint (str): The frame-model checkpoint.
        heads (list[str]): Heads set by :func:`apply_pretrained_heads`.

    Raises:
        ValueError: naming the head, the checkpoint and the fix.
    """
    import torch

    state = torch.load(checkpoint, map_location='cpu', weights_only=False)
    saved = {k: tuple(v.shape) for k, v in state.get('state_dict', state).items()}
    own = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    for head in dict.fromkeys(heads):
        names = {
            k.split(f'{head}.', 1)[1]: shape
            for k, shape in own.items()
            if k.startswith(f'{head}.') or f'.{head}.' in k
        }
        found = sum(saved.get(f'{head}.{name}') == shape for name, shape in names.items())
        if names and not found:
            raise ValueError(
                f'--pretrained-heads: none of the {len(names)} weights of the {head} is in '
                f'{checkpoint} (a frame model with another {head}); give the config a '
                "'pretrained_heads_config' naming a frame detector with the same heads (as "
                'configs/toy/psla_c_rfcn_toy.py does), or use --no-pretrained-heads'
            )


#: Training iterations of every method on top of the pretrained N_f (the configs' 1500 are
#: the from-scratch schedule); the LR steps down at 75 % (:func:`build_cfg`).
FINETUNE_ITERS = 600


def default_iters(
    args_iters: Optional[int], quick: bool, pretrained: bool, finetune_iters: int = FINETUNE_ITERS
) -> Optional[int]:
    """Training iterations of a tool run: ``--iters`` if given, 4 for ``--quick``,
    ``finetune_iters`` (detection: :data:`FINETUNE_ITERS`) on a pretrained N_f, else the
    config's own (None)."""
    if args_iters is not None:
        return args_iters
    if quick:
        return 4
    return finetune_iters if pretrained else None


#: ``key_frame_loss_weight`` of the PSLA models trained from the pretrained N_f. The paper's
#: loss (0: non-key frame only) was measured first and lost (toy set, seed 0, 600
#: iterations, N_f from configs/toy/nf_pretrain_toy.py, one thread): with weight 0, PSLA (c)
#: reached 29.8 mAP@50 / 17.4 on degraded frames and its key frames (N_f + RFU) only 14.6,
#: because the head is never trained on F_t itself; with weight 1, 37.6 / 21.2 (key frames
#: 38.3). With the heads pretrained too (the detection tools' default), 5 seeds: weight 0
#: 43.5 / 21.8, weight 1 46.9 / 26.2 (mean mAP@50 / degraded). So the key-frame loss stays
#: (README, "Toy demo").
PRETRAINED_KEY_FRAME_LOSS_WEIGHT = 1.0


def apply_toy_recipe(
    cfg,
    nf_checkpoint: str,
    key_frame_loss_weight: float = PRETRAINED_KEY_FRAME_LOSS_WEIGHT,
    heads: bool = False,
):
    """The toy training recipe: N_f from ``nf_checkpoint`` (:func:`apply_pretrained_nf`, the
    paper's pretrained N_f), with ``heads`` the heads too (:func:`apply_pretrained_heads`),
    and, for PSLA models (configs with a ``key_frame_loss_weight``), that weight (default
    :data:`PRETRAINED_KEY_FRAME_LOSS_WEIGHT`, measured)."""
    apply_pretrained_nf(cfg, nf_checkpoint)
    if heads:
        apply_pretrained_heads(cfg, nf_checkpoint)
    if 'key_frame_loss_weight' in cfg.model:
        cfg.model.key_frame_loss_weight = key_frame_loss_weight
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

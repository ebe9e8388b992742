"""Train a video detector with the mmengine Runner.

Examples::

    python tools/train.py configs/toy/psla_c_toy.py
    python tools/train.py configs/vid/psla_r101_dcn.py --resume          # latest checkpoint
    tools/dist_train.sh configs/vid/psla_r101_dcn.py 8                     # 8 GPUs
    tools/dist_train.sh configs/toy/psla_c_toy.py 2                        # 2 CPU processes (gloo)
"""

import argparse
import os.path as osp

from mmengine.config import Config
from mmengine.registry import RUNNERS
from mmengine.runner import Runner

import mmpsla  # noqa: F401  (registers modules; checkpoint allow-list)
from mmpsla.utils import add_run_arguments, load_run_config, setup_cpu_distributed


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Train a video detector')
    add_run_arguments(parser, 'train_cfg.max_iters=100')
    parser.add_argument(
        '--resume',
        nargs='?',
        type=str,
        const='auto',
        help='resume from this checkpoint; without a path, from the latest one in work_dir',
    )
    parser.add_argument('--amp', action='store_true', help='automatic mixed precision')
    parser.add_argument(
        '--auto-scale-lr',
        action='store_true',
        help='scale the lr by the actual batch size against auto_scale_lr.base_batch_size',
    )
    return parser.parse_args(argv)


def build_config(args: argparse.Namespace) -> Config:
    cfg = load_run_config(args)
    if args.amp:
        cfg.optim_wrapper.type = 'AmpOptimWrapper'
        cfg.optim_wrapper.setdefault('loss_scale', 'dynamic')
    if args.auto_scale_lr:
        if 'auto_scale_lr' not in cfg or 'base_batch_size' not in cfg.auto_scale_lr:
            raise ValueError(
                '--auto-scale-lr needs auto_scale_lr.base_batch_size in the config; add it '
                '(e.g. --cfg-options auto_scale_lr.base_batch_size=8) or drop --auto-scale-lr'
            )
        cfg.auto_scale_lr.enable = True
    check_train_length(cfg)
    if args.resume == 'auto':
        cfg.resume = True
        cfg.load_from = None
    elif args.resume is not None:
        if not osp.isfile(args.resume):
            raise FileNotFoundError(
                f'--resume checkpoint not found: {args.resume} (give a .pth file, or --resume '
                'alone to continue from the latest checkpoint of the work dir)'
            )
        cfg.resume = True
        cfg.load_from = args.resume
    return cfg


def check_train_length(cfg: Config) -> None:
    """Refuse a ``train_cfg.max_iters`` / ``max_epochs`` that is not a positive int."""
    train_cfg = cfg.get('train_cfg') or {}
    for key in ('max_iters', 'max_epochs'):
        value = train_cfg.get(key)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(
                f'train_cfg.{key} must be a positive int, got {value!r}; '
                f'set it with e.g. --cfg-options train_cfg.{key}=100'
            )


def main(argv=None) -> None:
    args = parse_args(argv)
    cfg = build_config(args)
    setup_cpu_distributed(cfg, args.launcher)
    if 'runner_type' in cfg:
        runner = RUNNERS.build(cfg)
    else:
        runner = Runner.from_cfg(cfg)
    runner.train()


if __name__ == '__main__':
    main()

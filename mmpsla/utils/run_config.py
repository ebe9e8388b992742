"""Command-line and config handling shared by ``tools/train.py`` and ``tools/test.py``."""

import argparse
import os
import os.path as osp

from mmengine.config import Config, DictAction


def add_run_arguments(parser: argparse.ArgumentParser, cfg_options_example: str) -> None:
    """Add the arguments every Runner tool takes.

    These are ``config``, ``--work-dir``, ``--cfg-options``, ``--launcher`` and
    ``--local_rank``.
    """
    parser.add_argument('config', help='config file path')
    parser.add_argument('--work-dir', help='the dir to save logs, checkpoints and metrics')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help=f'override config entries, e.g. {cfg_options_example}',
    )
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'], default='none')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)


def load_run_config(args: argparse.Namespace) -> Config:
    """Load ``args.config`` and apply the common arguments of :func:`add_run_arguments`.

    The work dir defaults to ``./work_dirs/<config name>``, as in OpenMMLab's tools.

    Raises:
        FileNotFoundError: If the config file does not exist.
    """
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    if not osp.isfile(args.config):
        raise FileNotFoundError(f'config file not found: {args.config}')
    cfg = Config.fromfile(args.config)
    cfg.launcher = args.launcher
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = osp.join('./work_dirs', osp.splitext(osp.basename(args.config))[0])
    return cfg

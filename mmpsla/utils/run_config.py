"""Command-line and config handling shared by ``tools/train.py`` and ``tools/test.py``."""

import argparse
import os
import os.path as osp

from mmengine.config import Config, DictAction

#: The file types mmengine's ``Config.fromfile`` reads.
CONFIG_SUFFIXES = ('.py', '.json', '.yaml', '.yml')


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
        ValueError: If it is not a ``.py``, ``.json`` or ``.yaml`` file.
        NotADirectoryError: If ``--work-dir`` names an existing file.
    """
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    if not osp.isfile(args.config):
        raise FileNotFoundError(
            f'config file not found: {args.config} (pass the path of a config file, '
            'e.g. configs/toy/psla_c_toy.py)'
        )
    if not args.config.endswith(CONFIG_SUFFIXES):
        raise ValueError(
            f'config {args.config} is not a config file: it must end with one of '
            f'{CONFIG_SUFFIXES} (an mmengine config, e.g. configs/toy/psla_c_toy.py)'
        )
    if args.work_dir is not None and osp.exists(args.work_dir) and not osp.isdir(args.work_dir):
        raise NotADirectoryError(
            f'--work-dir {args.work_dir} is a file; pass a folder (it is created if missing)'
        )
    cfg = Config.fromfile(args.config)
    cfg.launcher = args.launcher
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = osp.join('./work_dirs', osp.splitext(osp.basename(args.config))[0])
    use_single_writer_hooks(cfg)
    return cfg


# mmengine hook -> the mmpsla subclass that writes each file from one process, atomically;
# and the entry mmengine's Runner uses when a config leaves the hook out.
_SINGLE_WRITER_HOOKS = {
    'logger': ('LoggerHook', 'MainProcessLoggerHook', dict()),
    'checkpoint': ('CheckpointHook', 'AtomicCheckpointHook', dict(interval=1)),
}


def use_single_writer_hooks(cfg: Config) -> Config:
    """Make ``cfg`` use the hooks that keep distributed runs to one writer per file.

    mmengine's ``LoggerHook`` writes the test metrics file from every rank, and its
    ``CheckpointHook`` writes checkpoints in place (see
    :class:`~mmpsla.engine.MainProcessLoggerHook` and
    :class:`~mmpsla.engine.AtomicCheckpointHook`). mmpsla's configs select the mmpsla
    hooks in ``configs/_base_/default_runtime.py``; this swaps them in for the plain
    mmengine ones of any other config (e.g. a config written for mmdet or mmtrack), and
    adds them where the config leaves ``default_hooks.logger`` / ``.checkpoint`` out
    (mmengine's Runner would otherwise add the plain hooks, with the same defaults).
    A hook given as an object or disabled with ``None`` is left alone.

    Args:
        cfg: The run's config, changed in place.

    Returns:
        ``cfg``.
    """
    hooks = cfg.get('default_hooks')
    hooks = {} if hooks is None else hooks
    for key, (plain, single_writer, runner_default) in _SINGLE_WRITER_HOOKS.items():
        if key not in hooks:
            hooks[key] = dict(type=single_writer, **runner_default)
            continue
        hook = hooks[key]
        if not isinstance(hook, dict):
            continue
        hook_type = hook.get('type')
        name = getattr(hook_type, '__name__', hook_type)
        if isinstance(name, str) and name.split('.')[-1] == plain:
            hook['type'] = single_writer
    cfg.default_hooks = hooks
    return cfg

"""Utilities shared by the package."""

from .atomic_io import atomic_dump_json, atomic_write, atomic_write_text
from .checkpoint_compat import allow_mmengine_checkpoints, history_buffer_method
from .checkpoint_loading import CheckpointLoadError, install_checkpoint_loader
from .cpu_distributed import CPUDistributedDataParallel, setup_cpu_distributed
from .run_config import add_run_arguments, load_run_config, use_single_writer_hooks

allow_mmengine_checkpoints()
install_checkpoint_loader()

__all__ = [
    'atomic_dump_json',
    'atomic_write',
    'atomic_write_text',
    'allow_mmengine_checkpoints',
    'history_buffer_method',
    'CheckpointLoadError',
    'install_checkpoint_loader',
    'CPUDistributedDataParallel',
    'setup_cpu_distributed',
    'add_run_arguments',
    'load_run_config',
    'use_single_writer_hooks',
]

"""Utilities shared by the package."""

from .checkpoint_compat import allow_mmengine_checkpoints, history_buffer_method
from .cpu_distributed import CPUDistributedDataParallel, setup_cpu_distributed
from .run_config import add_run_arguments, load_run_config

allow_mmengine_checkpoints()

__all__ = [
    'allow_mmengine_checkpoints',
    'history_buffer_method',
    'CPUDistributedDataParallel',
    'setup_cpu_distributed',
    'add_run_arguments',
    'load_run_config',
]

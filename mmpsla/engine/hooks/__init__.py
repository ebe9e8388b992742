from .adapt_class_head_hook import AdaptClassHeadHook
from .atomic_checkpoint_hook import AtomicCheckpointHook
from .main_process_logger_hook import MainProcessLoggerHook

__all__ = ['AdaptClassHeadHook', 'AtomicCheckpointHook', 'MainProcessLoggerHook']

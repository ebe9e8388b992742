"""Runner parts of mmpsla: hooks for one writer per file in distributed runs and for
fine-tuning with another class list."""

from .hooks import AdaptClassHeadHook, AtomicCheckpointHook, MainProcessLoggerHook

__all__ = ['AdaptClassHeadHook', 'AtomicCheckpointHook', 'MainProcessLoggerHook']

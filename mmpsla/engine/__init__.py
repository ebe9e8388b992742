"""Runner parts of mmpsla: hooks that keep distributed runs to one writer per file."""

from .hooks import AtomicCheckpointHook, MainProcessLoggerHook

__all__ = ['AtomicCheckpointHook', 'MainProcessLoggerHook']

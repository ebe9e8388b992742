"""Runner-side helpers of mmpsla (hooks)."""

from .hooks import AdaptClassHeadHook

__all__ = ['AdaptClassHeadHook']

from .adapt_class_head_hook import AdaptClassHeadHook

__all__ = ['AdaptClassHeadHook']

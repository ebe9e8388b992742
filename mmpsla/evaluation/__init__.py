"""Evaluation of mmpsla: the ImageNet VID metric (mAP@50, motion and degradation breakdown)."""

from .functional import eval_vid_map, motion_ious
from .metrics import VIDMetric

__all__ = ['VIDMetric', 'eval_vid_map', 'motion_ious']

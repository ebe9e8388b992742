"""Evaluation of mmpsla: the ImageNet VID devkit's mAP (with FGFA's motion breakdown),
mmtrack's COCO-style video AP, and Seq-NMS post-processing.

Evaluation reads predictions and annotation files only; it imports nothing from
``mmpsla.models`` (and models import nothing from here).
"""

from .functional import eval_vid_map, motion_ious
from .metrics import VIDCocoMetric, VIDMetric
from .post import seq_nms

__all__ = ['VIDMetric', 'VIDCocoMetric', 'eval_vid_map', 'motion_ious', 'seq_nms']

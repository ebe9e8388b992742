"""The ImageNet VID devkit's evaluation rules and FGFA's motion breakdown (numpy only)."""

from .boxes import (
    BOX_CONVENTIONS,
    DEFAULT_BOX_CONVENTION,
    box_iou,
    check_box_convention,
    paired_box_iou,
    small_object_thr,
)
from .motion import MOTION_RANGES, empty_frame_weight, in_motion_range, motion_ious
from .vid_eval import average_precision, eval_vid_map, match_frame, score_frame

__all__ = [
    'BOX_CONVENTIONS',
    'DEFAULT_BOX_CONVENTION',
    'MOTION_RANGES',
    'average_precision',
    'box_iou',
    'check_box_convention',
    'empty_frame_weight',
    'eval_vid_map',
    'in_motion_range',
    'match_frame',
    'motion_ious',
    'paired_box_iou',
    'score_frame',
    'small_object_thr',
]

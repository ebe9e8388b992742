from .vid_eval import (
    MOTION_RANGES,
    average_precision,
    box_iou,
    eval_vid_map,
    match_frame,
    motion_category,
    motion_ious,
    small_object_thr,
)

__all__ = [
    'MOTION_RANGES',
    'average_precision',
    'box_iou',
    'eval_vid_map',
    'match_frame',
    'motion_category',
    'motion_ious',
    'small_object_thr',
]

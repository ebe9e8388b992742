import importlib.util

from .dump_frame_results import DumpFrameResults
from .vid_coco_metric import VIDCocoMetric
from .vid_metric import VIDMetric

__all__ = ['VIDMetric', 'VIDCocoMetric', 'DumpFrameResults']

if importlib.util.find_spec('mmseg') is not None:  # video segmentation (mmseg)
    from .subset_iou_metric import SubsetIoUMetric  # noqa: F401

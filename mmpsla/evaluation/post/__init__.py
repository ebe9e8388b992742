"""Video-level post-processing of per-frame detections (numpy only): Seq-NMS."""

from .seq_nms import seq_nms

__all__ = ['seq_nms']

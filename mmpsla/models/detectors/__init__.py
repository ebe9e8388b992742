"""Video detectors: the shared base class, PSLA, the frame baseline (and DFF/FGFA)."""
from .base_video_detector import BaseVideoDetector

__all__ = ['BaseVideoDetector']

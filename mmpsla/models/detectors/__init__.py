"""Video detectors: the shared base class, PSLA, the frame baseline (and DFF/FGFA)."""

from .base_video_detector import BaseVideoDetector
from .frame_baseline import FrameBaselineDetector
from .psla_video_detector import PSLAVideoDetector

__all__ = ['BaseVideoDetector', 'PSLAVideoDetector', 'FrameBaselineDetector']
from .dff import DFF, FlowGuidedVideoDetector  # noqa: E402,F401  (baselines)
from .fgfa import FGFA  # noqa: E402,F401  (baselines)

"""Video detectors: the shared base classes, PSLA, the frame baseline and the baselines
DFF, FGFA, SELSA (+ Temporal RoI Align, a SELSA with a ``TemporalRoIAlign`` extractor)."""

from .base_video_detector import BaseVideoDetector
from .dff import DFF
from .fgfa import FGFA
from .flow_guided_video_detector import FlowGuidedVideoDetector
from .frame_baseline import FrameBaselineDetector
from .mmtrack_style_detector import MMTrackStyleVideoDetector
from .psla_video_detector import PSLAVideoDetector
from .selsa import SELSA

__all__ = [
    'BaseVideoDetector',
    'MMTrackStyleVideoDetector',
    'FlowGuidedVideoDetector',
    'PSLAVideoDetector',
    'FrameBaselineDetector',
    'DFF',
    'FGFA',
    'SELSA',
]

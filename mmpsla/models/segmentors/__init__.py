"""Video semantic segmentors (paper Sec. 4.4), registered in mmseg's ``MODELS``.

The detection-side parts they are made of (``PSLAResNet``, ``RFU``, ``DenseFT``,
``FlowNetSimple``) live in mmdet's registry; :mod:`.scope` builds each part in the scope
it belongs to, so these segmentors build under ``default_scope='mmseg'`` and ``'mmdet'``.
"""

from .base_video_segmentor import BaseVideoSegmentor
from .dff_segmentor import DFFSegmentor
from .frame_baseline_segmentor import FrameBaselineSegmentor
from .psla_video_segmentor import PSLAVideoSegmentor
from .scope import build_det_module, build_seg_module
from .seg_video_data_preprocessor import SegVideoDataPreProcessor

__all__ = [
    'BaseVideoSegmentor',
    'PSLAVideoSegmentor',
    'FrameBaselineSegmentor',
    'DFFSegmentor',
    'SegVideoDataPreProcessor',
    'build_det_module',
    'build_seg_module',
]

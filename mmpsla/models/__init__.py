"""Models: feature alignment, necks, backbones, detectors and the baselines' parts.

Importing this package registers every model component into mmdet's ``MODELS`` (and,
when mmsegmentation is installed, the video segmentors into mmseg's ``MODELS``).
"""

import importlib.util

from . import aggregators, align, backbones, detectors, motion, necks, roi_heads  # noqa: F401

if importlib.util.find_spec('mmseg') is not None:
    from . import segmentors  # noqa: F401

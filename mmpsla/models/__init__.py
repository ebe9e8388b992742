"""Models: feature alignment, temporal modules (RFU, DenseFT), backbones, heads, detectors.

Importing this package registers every model component into mmdet's ``MODELS`` (and,
when mmsegmentation is installed, the video segmentors into mmseg's ``MODELS``).
"""

import importlib.util

from . import (  # noqa: F401
    aggregators,
    align,
    backbones,
    dense_heads,
    detectors,
    motion,
    roi_heads,
    temporal,
)

if importlib.util.find_spec('mmseg') is not None:
    from . import segmentors  # noqa: F401

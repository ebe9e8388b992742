"""Models: feature alignment, temporal modules (RFU, DenseFT), backbones, heads, detectors.

Importing this package registers every model component into mmdet's ``MODELS``.
"""

from . import (  # noqa: F401
    aggregators,
    align,
    backbones,
    dense_heads,
    detectors,
    motion,
    post,
    roi_heads,
    temporal,
)

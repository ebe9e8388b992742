"""Models: feature alignment, necks, backbones, detectors and the baselines' parts.

Importing this package registers every model component into mmdet's ``MODELS``.
"""

from . import aggregators, align, backbones, detectors, motion, necks, roi_heads  # noqa: F401

"""Necks: RFU (Update Net) and DenseFT (Transform Net + Quality Net)."""

from .dense_ft import DenseFT
from .fusion_weight_net import FusionWeightNet
from .rfu import RFU
from .transform_net import TransformNet

__all__ = ['RFU', 'DenseFT', 'FusionWeightNet', 'TransformNet']

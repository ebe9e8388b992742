"""Temporal modules of PSLA: RFU (Update Net, Sec. 3.3) and DenseFT (Transform Net +
Quality Net, Sec. 3.4). Registry type names (``RFU``, ``DenseFT``) are unchanged."""

from .dense_ft import DenseFT
from .fusion_weight_net import FusionWeightNet
from .rfu import RFU
from .transform_net import TransformNet

__all__ = ['RFU', 'DenseFT', 'FusionWeightNet', 'TransformNet']

"""RoI heads: R-FCN (position-sensitive score maps, PS-RoIAlign, voting); SELSA / TRoI Align."""

from .ps_roi_align import PSRoIAlign
from .rfcn_roi_head import RFCNBBoxHead, RFCNRoIHead
from .selsa_bbox_head import SelsaBBoxHead
from .selsa_roi_head import SelsaRoIHead
from .temporal_roi_align import TemporalRoIAlign

__all__ = [
    'PSRoIAlign',
    'RFCNBBoxHead',
    'RFCNRoIHead',
    'SelsaBBoxHead',
    'SelsaRoIHead',
    'TemporalRoIAlign',
]

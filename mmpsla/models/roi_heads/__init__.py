"""RoI heads and extractors: R-FCN (position-sensitive score maps, PS-RoIAlign, voting),
Deformable R-FCN; SELSA / TRoI Align; the single-level RoI extractor on mmpsla's compiled
RoIAlign."""

from .deform_ps_roi_pool import DeformPSRoIPool, deform_ps_roi_pool
from .ops_roi_extractor import OpsSingleRoIExtractor
from .ps_roi_align import PSRoIAlign
from .rfcn_roi_head import RFCNBBoxHead, RFCNRoIHead
from .selsa_bbox_head import SelsaBBoxHead
from .selsa_roi_head import SelsaRoIHead
from .temporal_roi_align import TemporalRoIAlign

__all__ = [
    'DeformPSRoIPool',
    'OpsSingleRoIExtractor',
    'PSRoIAlign',
    'RFCNBBoxHead',
    'RFCNRoIHead',
    'SelsaBBoxHead',
    'SelsaRoIHead',
    'TemporalRoIAlign',
    'deform_ps_roi_pool',
]

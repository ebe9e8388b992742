"""RoI heads: R-FCN (position-sensitive score maps, PS-RoIAlign, voting)."""

from .ps_roi_align import PSRoIAlign
from .rfcn_roi_head import RFCNBBoxHead, RFCNRoIHead

__all__ = ['PSRoIAlign', 'RFCNBBoxHead', 'RFCNRoIHead']

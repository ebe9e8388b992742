"""RoI heads: R-FCN (position-sensitive score maps, PS-RoIAlign, voting) and Deformable R-FCN."""

from .deform_ps_roi_pool import DeformPSRoIPool, deform_ps_roi_pool
from .ps_roi_align import PSRoIAlign
from .rfcn_roi_head import RFCNBBoxHead, RFCNRoIHead

__all__ = ['DeformPSRoIPool', 'PSRoIAlign', 'RFCNBBoxHead', 'RFCNRoIHead', 'deform_ps_roi_pool']

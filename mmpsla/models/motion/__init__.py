"""Motion estimation for the DFF / FGFA baselines: FlowNet-S and flow warping."""

from .flow_warp import flow_warp_feats, resize_flow
from .flownet_simple import FlowNetSimple

__all__ = ['FlowNetSimple', 'flow_warp_feats', 'resize_flow']

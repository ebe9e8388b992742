"""Dense heads: DFF's RPN (1x1 convs on one channel slice of the feature)."""

from .slice_rpn_head import SliceRPNHead

__all__ = ['SliceRPNHead']

"""DFF's RPN: classification / regression 1x1 convs on one channel slice of the feature.

DFF (Zhu et al. 2017), whose network the PSLA paper follows for N_t (Sec. 3.5), splits the
1024-channel output of ``feat_conv_3x3`` in two halves: the RPN reads channels ``[0, 512)``
with two 1x1 convolutions (no 3x3 ``rpn_conv``), the R-FCN head the other half.
"""

from typing import Optional, Sequence, Tuple

import torch.nn as nn
from mmdet.models.dense_heads import RPNHead
from mmdet.registry import MODELS
from torch import Tensor


@MODELS.register_module()
class SliceRPNHead(RPNHead):
    """mmdet's ``RPNHead`` reading a channel slice of the feature, optionally without rpn_conv.

    Args:
        in_channels (int): Channels of the whole feature map.
        feat_slice (Sequence[int], optional): ``(start, end)`` channels the head reads;
            None reads all. DFF: ``(0, 512)`` of 1024.
        num_convs (int): 3x3 convs before the 1x1 predictors; 0 (DFF) puts ``rpn_cls`` /
            ``rpn_reg`` directly on the slice, 1 is mmdet's ``RPNHead``. Defaults to 0.
        **kwargs: Other ``RPNHead`` arguments (``anchor_generator``, ``bbox_coder``,
            ``loss_cls``, ``loss_bbox``, ``feat_channels`` used when ``num_convs`` > 0).
    """

    def __init__(
        self,
        in_channels: int,
        feat_slice: Optional[Sequence[int]] = None,
        num_convs: int = 0,
        init_cfg: Optional[dict] = None,
        **kwargs,
    ) -> None:
        self.feat_slice = check_feat_slice(feat_slice, in_channels, 'feat_slice')
        start, end = self.feat_slice
        if init_cfg is None:
            init_cfg = dict(type='Normal', layer='Conv2d', std=0.01)
        super().__init__(end - start, num_convs=max(num_convs, 1), init_cfg=init_cfg, **kwargs)
        self.full_in_channels = in_channels
        if num_convs == 0:  # DFF: no 3x3 conv, predictors on the slice itself
            self.num_convs = 0
            del self.rpn_conv
            self.rpn_cls = nn.Conv2d(
                self.in_channels, self.num_base_priors * self.cls_out_channels, 1
            )
            self.rpn_reg = nn.Conv2d(
                self.in_channels, self.num_base_priors * self.bbox_coder.encode_size, 1
            )

    def forward_single(self, x: Tensor) -> Tuple[Tensor, Tensor]:
        """One level: ``(B, in_channels, H, W)`` -> class scores and box deltas per anchor."""
        if x.size(1) != self.full_in_channels:
            raise ValueError(
                f'feature has {x.size(1)} channels, SliceRPNHead expects {self.full_in_channels}'
            )
        start, end = self.feat_slice
        x = x[:, start:end]
        if self.num_convs == 0:
            return self.rpn_cls(x), self.rpn_reg(x)
        return super().forward_single(x)


def check_feat_slice(feat_slice, in_channels: int, name: str) -> Tuple[int, int]:
    """``(start, end)`` of a valid channel slice (all channels when None)."""
    if feat_slice is None:
        return 0, in_channels
    if len(feat_slice) != 2 or not 0 <= feat_slice[0] < feat_slice[1] <= in_channels:
        raise ValueError(
            f'{name} must be (start, end) with 0 <= start < end <= {in_channels}, '
            f'got {feat_slice!r}'
        )
    return int(feat_slice[0]), int(feat_slice[1])

"""Recursive Feature Updating (paper Sec. 3.3)."""

from typing import Optional, Sequence

import torch.nn as nn
from mmdet.registry import MODELS
from torch import Tensor

from ..scoped_build import build_det_module
from .fusion_weight_net import FusionWeightNet


@MODELS.register_module()
class RFU(nn.Module):
    """Updates the temporal feature F_t with a new key frame's high-level feature F_h^k.

    F̂_t = align(F_h^k, F_t) (PSLA by default); (Ŵ, W) = UpdateNet(F̂_t, F_h^k);
    F_t <- Ŵ·F̂_t + W·F_h^k (Eq. 6). The first key frame of a video initialises F_t = F_h^k.

    Args:
        in_channels (int): Channels of F_h (= channels of F_t). Defaults to 1024.
        align (dict): Config of the alignment module (``in_channels`` filled in).
            Defaults to ``PSLAAlign`` with 256 embedding filters, d = 4.
        update_channels (Sequence[int]): Update Net hidden channels. Defaults to (256, 16).
    """

    def __init__(
        self,
        in_channels: int = 1024,
        align: Optional[dict] = None,
        update_channels: Sequence[int] = (256, 16),
    ) -> None:
        super().__init__()
        align = dict(align or {'type': 'PSLAAlign', 'embed_channels': 256, 'max_displacement': 4})
        align.setdefault('in_channels', in_channels)
        self.in_channels = in_channels
        self.align = build_det_module(align)  # in mmdet's scope, whatever the default
        self.update_net = FusionWeightNet(in_channels, update_channels)

    def forward(
        self, key_feat: Tensor, temporal_feat: Optional[Tensor], return_weights: bool = False
    ):
        """One update step.

        Args:
            key_feat (Tensor): F_h^k (B, C, H, W).
            temporal_feat (Tensor, optional): F_t (B, C, H, W); None at a video's first key
                frame.
            return_weights (bool): Also return (Ŵ, W), each (B, 1, H, W).

        Returns:
            Tensor | tuple: The new F_t (B, C, H, W) [, (Ŵ, W)].
        """
        if temporal_feat is None:
            new = key_feat
            weights = (
                key_feat.new_zeros(key_feat[:, :1].shape),
                key_feat.new_ones(key_feat[:, :1].shape),
            )
        else:
            aligned = self.align(key_feat, temporal_feat)
            weights = self.update_net(aligned, key_feat)
            new = weights[0] * aligned + weights[1] * key_feat
        return (new, weights) if return_weights else new

    def extra_repr(self) -> str:
        return f'in_channels={self.in_channels}'

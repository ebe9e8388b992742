"""Update Net / Quality Net: per-pixel weights of two feature maps that sum to one."""

from typing import Sequence, Tuple

import torch
import torch.nn as nn
from torch import Tensor


class FusionWeightNet(nn.Module):
    """Predicts two spatial weight maps (W_a, W_b), W_a + W_b = 1, from two features.

    Paper Fig. 4: concatenation -> 1x1 conv (``hidden_channels[0]``, 256) -> 3x3 conv
    (``hidden_channels[1]``, 16) -> 3x3 conv (2), ReLUs in between, softmax over the 2 maps.
    Used as RFU's Update Net and DenseFT's Quality Net.

    Args:
        in_channels (int): Channels of each of the two inputs.
        hidden_channels (Sequence[int]): Channels of the first two convs. Defaults to
            (256, 16).
    """

    def __init__(self, in_channels: int, hidden_channels: Sequence[int] = (256, 16)) -> None:
        super().__init__()
        if len(hidden_channels) != 2:
            raise ValueError(f'hidden_channels must have 2 entries, got {hidden_channels!r}')
        c1, c2 = hidden_channels
        self.in_channels = in_channels
        self.hidden_channels = tuple(hidden_channels)
        self.layers = nn.Sequential(
            nn.Conv2d(2 * in_channels, c1, 1),
            nn.ReLU(inplace=True),
            nn.Conv2d(c1, c2, 3, padding=1),
            nn.ReLU(inplace=True),
            nn.Conv2d(c2, 2, 3, padding=1),
        )
        # start as an even blend (both weights 0.5) so neither input is ignored early on
        nn.init.zeros_(self.layers[-1].weight)
        nn.init.zeros_(self.layers[-1].bias)

    def forward(self, feat_a: Tensor, feat_b: Tensor) -> Tuple[Tensor, Tensor]:
        """Weights of ``feat_a`` and ``feat_b`` (each (B, C, H, W)).

        Returns:
            tuple[Tensor, Tensor]: (B, 1, H, W) maps ``w_a``, ``w_b`` with w_a + w_b = 1.
        """
        if feat_a.shape != feat_b.shape:
            raise ValueError(
                f'feat_a and feat_b must have the same shape, got {tuple(feat_a.shape)} '
                f'and {tuple(feat_b.shape)}'
            )
        weights = self.layers(torch.cat([feat_a, feat_b], dim=1)).softmax(dim=1)
        return weights[:, :1], weights[:, 1:]

    def fuse(self, feat_a: Tensor, feat_b: Tensor) -> Tensor:
        """``w_a * feat_a + w_b * feat_b`` (B, C, H, W)."""
        w_a, w_b = self(feat_a, feat_b)
        return w_a * feat_a + w_b * feat_b

    def extra_repr(self) -> str:
        return f'in_channels={self.in_channels}, hidden_channels={self.hidden_channels}'

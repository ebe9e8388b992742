"""DenseFT's Transform Net: a bottleneck that lifts F_l towards F_h."""

import torch.nn as nn
from torch import Tensor


class TransformNet(nn.Sequential):
    """1x1 conv (reduce) -> 3x3 conv (``mid_channels``) -> 3x3 conv (``out_channels``), ReLUs.

    Paper Fig. 5 (1x1 reduce, 3x3 -> 256, 3x3 -> 1024).

    Args:
        in_channels (int): Channels of F_l.
        out_channels (int): Channels of F_h.
        reduce_channels (int): Output of the 1x1 conv. Defaults to 256.
        mid_channels (int): Output of the first 3x3 conv. Defaults to 256.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        reduce_channels: int = 256,
        mid_channels: int = 256,
    ) -> None:
        super().__init__(
            nn.Conv2d(in_channels, reduce_channels, 1),
            nn.ReLU(inplace=True),
            nn.Conv2d(reduce_channels, mid_channels, 3, padding=1),
            nn.ReLU(inplace=True),
            nn.Conv2d(mid_channels, out_channels, 3, padding=1),
            nn.ReLU(inplace=True),
        )
        self.in_channels = in_channels
        self.out_channels = out_channels

    def forward(self, x: Tensor) -> Tensor:
        """F_l (B, in_channels, H, W) -> (B, out_channels, H, W)."""
        return super().forward(x)

"""DenseFT's Transform Net: a bottleneck block that lifts F_l towards F_h (paper Sec. 3.5)."""

import torch.nn as nn
from torch import Tensor


class TransformNet(nn.Sequential):
    """1x1 conv (reduce) -> 3x3 conv (``mid_channels``) -> 3x3 conv (``out_channels``).

    Paper Fig. 5 / Sec. 3.5: "implemented with a bottleneck block": a 1x1 reduction, then
    3x3 convs with 256 and 1024 filters, ReLUs in between. With ``shortcut=True`` (the
    paper's word "bottleneck block", default) the block adds its input, as a ResNet
    bottleneck does: ``out = ReLU(convs(x) + x)``, through a 1x1 projection when the
    channels differ. ``shortcut=False`` is the plain stack ``ReLU(convs(x))``.

    Args:
        in_channels (int): Channels of F_l.
        out_channels (int): Channels of F_h.
        reduce_channels (int): Output of the 1x1 conv. Defaults to 256.
        mid_channels (int): Output of the first 3x3 conv. Defaults to 256.
        shortcut (bool): Residual shortcut. Defaults to True.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        reduce_channels: int = 256,
        mid_channels: int = 256,
        shortcut: bool = True,
    ) -> None:
        # children 0-5 (conv, ReLU, conv, ReLU, conv, ReLU): state-dict keys as before
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
        self.shortcut = shortcut
        self.projection = (
            nn.Conv2d(in_channels, out_channels, 1)
            if shortcut and in_channels != out_channels
            else None
        )

    def forward(self, x: Tensor) -> Tensor:
        """F_l (B, in_channels, H, W) -> (B, out_channels, H, W)."""
        out = x
        for layer in list(self)[:5]:
            out = layer(out)
        if self.shortcut:
            out = out + (x if self.projection is None else self.projection(x))
        return out.relu()

    def extra_repr(self) -> str:
        return f'shortcut={self.shortcut}'

"""The key/non-key split of one ResNet: N_f (full, + feature conv) and its prefix N_l."""

from typing import Optional, Sequence

import torch.nn as nn
from mmdet.models.backbones import ResNet
from mmdet.registry import MODELS
from torch import Tensor


@MODELS.register_module()
class PSLAResNet(ResNet):
    """A DC5 ResNet that exposes its prefix N_l and its full path N_f (paper Sec. 3.5).

    * ``forward_low(x)`` = N_l: stem, res2, res3 and the first ``low_level_blocks`` blocks of
      res4 (res4a..res4b3 = 4 blocks for R50/R101) -> F_l (N, C4, H/16, W/16).
    * ``forward_high(f_low)``: the rest of res4, res5 (stride 1, dilation 2 for DC5) and the
      feature conv (3x3 -> ``feat_channels`` + ReLU) -> F_h (N, feat_channels, H/16, W/16).
      DFF's ``feat_conv_3x3`` (which the paper's R-FCN N_t follows) has dilation 6
      (``feat_conv_dilation=6``).
    * ``forward(x)`` = N_f = ``forward_high(forward_low(x))``: N_l is the same modules, so
      the weights are shared, not copied.

    Args:
        low_level_blocks (int): res4 blocks in N_l. Defaults to 4 (res4b3).
        feat_channels (int): Output channels of the feature conv. Defaults to 1024.
        feat_conv_dilation (int): Dilation (= padding) of the 3x3 feature conv. Defaults to 1;
            DFF / the paper's R-FCN configs use 6.
        stage_blocks (Sequence[int], optional): Override the blocks per stage of ``depth``'s
            architecture (e.g. a tiny net ``depth=18, stage_blocks=(1, 1, 2, 1)``).
        **kwargs: mmdet ``ResNet`` arguments (``depth``, ``strides=(1, 2, 2, 1)``,
            ``dilations=(1, 1, 1, 2)``, ``dcn``, ``stage_with_dcn``, ``norm_cfg`` ...).
    """

    def __init__(
        self,
        low_level_blocks: int = 4,
        feat_channels: int = 1024,
        feat_conv_dilation: int = 1,
        stage_blocks: Optional[Sequence[int]] = None,
        strides: Sequence[int] = (1, 2, 2, 1),
        dilations: Sequence[int] = (1, 1, 1, 2),
        **kwargs,
    ) -> None:
        depth = kwargs.get('depth')
        if stage_blocks is not None:
            if depth not in self.arch_settings:
                raise ValueError(f'depth must be one of {sorted(self.arch_settings)}, got {depth}')
            block = self.arch_settings[depth][0]
            # instance-level override of the class table, read by ResNet.__init__
            object.__setattr__(self, 'arch_settings', {depth: (block, tuple(stage_blocks))})
        kwargs.setdefault('out_indices', (3,))
        super().__init__(strides=strides, dilations=dilations, **kwargs)
        if len(self.stage_blocks) != 4:
            raise ValueError(f'PSLAResNet needs num_stages=4, got {len(self.stage_blocks)}')
        res4_blocks = self.stage_blocks[2]
        if not 1 <= low_level_blocks <= res4_blocks:
            raise ValueError(
                f'low_level_blocks must be in [1, {res4_blocks}] (blocks of res4), '
                f'got {low_level_blocks}'
            )
        self.low_level_blocks = low_level_blocks
        self.feat_channels = feat_channels
        block = self.block
        self.low_channels = block.expansion * self.base_channels * 4
        if not isinstance(feat_conv_dilation, int) or feat_conv_dilation < 1:
            raise ValueError(
                f'feat_conv_dilation must be a positive int, got {feat_conv_dilation!r}'
            )
        self.feat_conv_dilation = feat_conv_dilation
        self.feat_conv = nn.Conv2d(
            self.feat_dim,
            feat_channels,
            3,
            padding=feat_conv_dilation,
            dilation=feat_conv_dilation,
        )
        self.feat_relu = nn.ReLU(inplace=True)

    def forward_low(self, x: Tensor) -> Tensor:
        """N_l: images (N, 3, H, W) -> F_l (N, low_channels, H/16, W/16)."""
        if self.deep_stem:
            x = self.stem(x)
        else:
            x = self.relu(self.norm1(self.conv1(x)))
        x = self.maxpool(x)
        x = self.layer2(self.layer1(x))
        for block in list(self.layer3)[: self.low_level_blocks]:
            x = block(x)
        return x

    def forward_high(self, f_low: Tensor) -> Tensor:
        """Continue N_f from F_l: (N, low_channels, h, w) -> F_h (N, feat_channels, h, w)."""
        x = f_low
        for block in list(self.layer3)[self.low_level_blocks :]:
            x = block(x)
        x = self.layer4(x)
        return self.feat_relu(self.feat_conv(x))

    def forward(self, x: Tensor) -> Tensor:
        """N_f: images (N, 3, H, W) -> F_h (N, feat_channels, H/16, W/16)."""
        return self.forward_high(self.forward_low(x))

    def extra_repr(self) -> str:
        return (
            f'depth={self.depth}, stage_blocks={tuple(self.stage_blocks)}, '
            f'low_level_blocks={self.low_level_blocks}, feat_channels={self.feat_channels}, '
            f'feat_conv_dilation={self.feat_conv_dilation}'
        )

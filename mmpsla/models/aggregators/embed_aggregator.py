"""FGFA's adaptive-weight aggregation (embedding network + cosine-similarity softmax)."""

from typing import List, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
from mmcv.cnn import ConvModule
from mmdet.registry import MODELS
from mmengine.model import BaseModule
from torch import Tensor


def _per_conv(value: Union[int, Sequence[int]], num_convs: int, name: str) -> Tuple[int, ...]:
    """One int per embedding conv from an int (repeated) or a sequence of ``num_convs``."""
    if isinstance(value, int):
        return (value,) * num_convs
    values = tuple(int(v) for v in value)
    if len(values) != num_convs:
        raise ValueError(f'{name} needs one entry per conv ({num_convs}), got {value!r}')
    return values


@MODELS.register_module()
class EmbedAggregator(BaseModule):
    """Flow-guided feature aggregation (Zhu et al., ICCV 2017, Eq. 1-2).

    A small embedding network ε (``num_convs`` convs; the last one has neither norm nor
    activation) maps the target features and each warped reference's features to
    embeddings; the adaptive weight of reference j at pixel p is the softmax, over the
    references, of the cosine similarity ``<ε(f_j)(p), ε(f_i)(p)> / (|·||·|)``; the
    output is the per-pixel weighted sum of the (un-embedded) reference features.

    Two shapes of ε: mmtrack 1.x's (``num_convs`` convs of ``kernel_size``, every one
    ``channels`` -> ``channels``; one 3x3 conv on 1024 channels has 9.44M parameters) and
    the one of FGFA's released code (``get_embednet``: 1x1 to 512, ReLU, 3x3 512, ReLU,
    1x1 to 2048 on the 1024-channel feature, 3.94M parameters), written
    ``num_convs=3, kernel_size=(1, 3, 1), embed_channels=(512, 512, 2048)``.

    Args:
        num_convs (int): number of embedding convs (>= 1). Defaults to 1.
        channels (int): feature channels (the input of ε). Defaults to 256.
        kernel_size (int | Sequence[int]): kernel size of every embedding conv, or one
            per conv. Defaults to 3.
        embed_channels (Sequence[int], optional): output channels of each conv; the last
            is the embedding's width. Defaults to None: every conv keeps ``channels``.
        norm_cfg (dict, optional): norm after each conv but the last.
        act_cfg (dict, optional): activation after each conv but the last.
            Defaults to (None means) ``dict(type='ReLU')``.
        init_cfg (dict | list[dict], optional): mmengine initialisation config.
    """

    def __init__(
        self,
        num_convs: int = 1,
        channels: int = 256,
        kernel_size: Union[int, Sequence[int]] = 3,
        norm_cfg: Optional[dict] = None,
        act_cfg: Optional[dict] = None,
        embed_channels: Optional[Sequence[int]] = None,
        init_cfg: Optional[Union[dict, List[dict]]] = None,
    ) -> None:
        super().__init__(init_cfg)
        if act_cfg is None:
            act_cfg = dict(type='ReLU')
        if num_convs < 1:
            raise ValueError(f'num_convs must be >= 1, got {num_convs}')
        if channels < 1:
            raise ValueError(f'channels must be >= 1, got {channels}')
        kernels = _per_conv(kernel_size, num_convs, 'kernel_size')
        if any(k < 1 or k % 2 == 0 for k in kernels):
            raise ValueError(f'kernel_size must be positive odd numbers, got {kernel_size}')
        widths = _per_conv(
            channels if embed_channels is None else embed_channels, num_convs, 'embed_channels'
        )
        if any(c < 1 for c in widths):
            raise ValueError(f'embed_channels must be positive, got {embed_channels}')
        self.num_convs = num_convs
        self.channels = channels
        self.kernel_size = kernel_size
        self.embed_channels = widths
        ins = (channels,) + widths[:-1]
        self.embed_convs = nn.ModuleList(
            ConvModule(
                ins[i],
                widths[i],
                kernels[i],
                padding=(kernels[i] - 1) // 2,
                norm_cfg=norm_cfg if i < num_convs - 1 else None,
                act_cfg=act_cfg if i < num_convs - 1 else None,
            )
            for i in range(num_convs)
        )

    def extra_repr(self) -> str:
        return (
            f'num_convs={self.num_convs}, channels={self.channels}, '
            f'kernel_size={self.kernel_size}, embed_channels={self.embed_channels}'
        )

    def embed(self, x: Tensor) -> Tensor:
        """L2-normalised embeddings, (T, C, H, W) -> (T, embed_channels[-1], H, W)."""
        for conv in self.embed_convs:
            x = conv(x)
        return x / x.norm(p=2, dim=1, keepdim=True).clamp_min(1e-12)

    def forward(
        self, x: Tensor, ref_x: Tensor, return_weights: bool = False
    ) -> Union[Tensor, Tuple[Tensor, Tensor]]:
        """Aggregate the (warped) reference features ``ref_x`` for the target ``x``.

        Args:
            x (Tensor): (1, C, H, W) target-frame features.
            ref_x (Tensor): (T, C, H, W) reference features already warped to the
                target frame (FGFA includes the target's own features among them).
            return_weights (bool): also return the adaptive weights.

        Returns:
            Tensor | tuple[Tensor, Tensor]: the aggregated features (1, C, H, W) and,
            if asked, the weights (T, 1, H, W), which sum to 1 over T at every pixel.
        """
        if x.dim() != 4 or x.size(0) != 1:
            raise ValueError(f'x must have shape (1, C, H, W), got {tuple(x.shape)}')
        if ref_x.dim() != 4 or ref_x.shape[1:] != x.shape[1:]:
            raise ValueError(
                f'ref_x must have shape (T, {", ".join(map(str, x.shape[1:]))}), '
                f'got {tuple(ref_x.shape)}'
            )
        if x.size(1) != self.channels:
            raise ValueError(f'x has {x.size(1)} channels, the aggregator {self.channels}')
        embeds = self.embed(torch.cat((x, ref_x), dim=0))
        similarity = (embeds[1:] * embeds[:1]).sum(dim=1, keepdim=True)
        weights = similarity.softmax(dim=0)
        out = (ref_x * weights).sum(dim=0, keepdim=True)
        return (out, weights) if return_weights else out

"""FGFA's adaptive-weight aggregation (embedding network + cosine-similarity softmax)."""

from typing import List, Optional, Tuple, Union

import torch
import torch.nn as nn
from mmcv.cnn import ConvModule
from mmdet.registry import MODELS
from mmengine.model import BaseModule
from torch import Tensor


@MODELS.register_module()
class EmbedAggregator(BaseModule):
    """Flow-guided feature aggregation (Zhu et al., ICCV 2017, Eq. 1-2).

    A small embedding network ε (``num_convs`` convs; the last one has neither norm nor
    activation) maps the target features and each warped reference's features to
    embeddings; the adaptive weight of reference j at pixel p is the softmax, over the
    references, of the cosine similarity ``<ε(f_j)(p), ε(f_i)(p)> / (|·||·|)``; the
    output is the per-pixel weighted sum of the (un-embedded) reference features.

    Args:
        num_convs (int): number of embedding convs (>= 1). Defaults to 1.
        channels (int): feature (and embedding) channels. Defaults to 256.
        kernel_size (int): kernel size of the embedding convs. Defaults to 3.
        norm_cfg (dict, optional): norm after each conv but the last.
        act_cfg (dict, optional): activation after each conv but the last.
            Defaults to (None means) ``dict(type='ReLU')``.
        init_cfg (dict | list[dict], optional): mmengine initialisation config.
    """

    def __init__(
        self,
        num_convs: int = 1,
        channels: int = 256,
        kernel_size: int = 3,
        norm_cfg: Optional[dict] = None,
        act_cfg: Optional[dict] = None,
        init_cfg: Optional[Union[dict, List[dict]]] = None,
    ) -> None:
        super().__init__(init_cfg)
        if act_cfg is None:
            act_cfg = dict(type='ReLU')
        if num_convs < 1:
            raise ValueError(f'num_convs must be >= 1, got {num_convs}')
        if channels < 1:
            raise ValueError(f'channels must be >= 1, got {channels}')
        if kernel_size < 1 or kernel_size % 2 == 0:
            raise ValueError(f'kernel_size must be a positive odd number, got {kernel_size}')
        self.num_convs = num_convs
        self.channels = channels
        self.kernel_size = kernel_size
        self.embed_convs = nn.ModuleList(
            ConvModule(
                channels,
                channels,
                kernel_size,
                padding=(kernel_size - 1) // 2,
                norm_cfg=norm_cfg if i < num_convs - 1 else None,
                act_cfg=act_cfg if i < num_convs - 1 else None,
            )
            for i in range(num_convs)
        )

    def extra_repr(self) -> str:
        return (
            f'num_convs={self.num_convs}, channels={self.channels}, kernel_size={self.kernel_size}'
        )

    def embed(self, x: Tensor) -> Tensor:
        """L2-normalised embeddings, (T, C, H, W) -> (T, C, H, W)."""
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

"""SELSA's proposal-level semantic aggregation (Wu et al., ICCV 2019)."""

from typing import List, Optional, Union

import torch
import torch.nn as nn
from mmdet.registry import MODELS
from mmengine.model import BaseModule
from torch import Tensor


@MODELS.register_module()
class SelsaAggregator(BaseModule):
    """Aggregate reference-proposal features into key-frame proposal features.

    SELSA (Sequence Level Semantics Aggregation, Wu et al., ICCV 2019, Eq. 3-4) treats the
    proposals of all sampled frames as one set and refines each key-frame proposal with a
    similarity-weighted sum of the reference proposals' features. Here the similarity is
    multi-head scaled dot-product attention: with ``h = num_attention_blocks`` heads of
    ``d = C / h`` channels,

    ``w^k_{ij} = softmax_j(<E_q(x_i)^k, E_r(r_j)^k> / sqrt(d))`` and
    ``out_i = F(concat_k sum_j w^k_{ij} T(r_j)^k)``,

    where ``E_q`` (``fc_embed``), ``E_r`` (``ref_fc_embed``), ``T`` (``ref_fc``) and ``F``
    (``fc``) are linear layers (the names are those of mmtrack 1.x checkpoints).
    The caller adds ``out`` to ``x`` (a residual update).

    Args:
        in_channels (int): proposal feature size ``C``.
        num_attention_blocks (int): number of heads ``h``; must divide ``C``.
            Defaults to 16.
        init_cfg (dict | list[dict], optional): initialisation config.
    """

    def __init__(
        self,
        in_channels: int,
        num_attention_blocks: int = 16,
        init_cfg: Optional[Union[dict, List[dict]]] = None,
    ) -> None:
        super().__init__(init_cfg)
        if in_channels < 1 or num_attention_blocks < 1 or in_channels % num_attention_blocks:
            raise ValueError(
                f'num_attention_blocks ({num_attention_blocks}) must be >= 1 and divide '
                f'in_channels ({in_channels})'
            )
        self.in_channels = in_channels
        self.num_attention_blocks = num_attention_blocks
        self.fc_embed = nn.Linear(in_channels, in_channels)
        self.ref_fc_embed = nn.Linear(in_channels, in_channels)
        self.ref_fc = nn.Linear(in_channels, in_channels)
        self.fc = nn.Linear(in_channels, in_channels)

    def _heads(self, feats: Tensor) -> Tensor:
        """(n, C) -> (h, n, C / h)."""
        return feats.reshape(feats.size(0), self.num_attention_blocks, -1).transpose(0, 1)

    def attention(self, x: Tensor, ref_x: Tensor) -> Tensor:
        """Attention weights (h, N, M) of the N key proposals over the M references."""
        query = self._heads(self.fc_embed(x))
        key = self._heads(self.ref_fc_embed(ref_x))
        scale = query.size(-1) ** -0.5
        return torch.softmax(torch.bmm(query, key.transpose(1, 2)) * scale, dim=-1)

    def forward(self, x: Tensor, ref_x: Tensor) -> Tensor:
        """Aggregated reference semantics for each key proposal.

        Args:
            x (Tensor): (N, C) key-frame proposal features.
            ref_x (Tensor): (M, C) reference proposal features, M >= 1.

        Returns:
            Tensor: (N, C), to be added to ``x``.
        """
        if x.dim() != 2 or ref_x.dim() != 2 or x.size(1) != self.in_channels:
            raise ValueError(
                f'x and ref_x must be (n, {self.in_channels}), got {tuple(x.shape)} and '
                f'{tuple(ref_x.shape)}'
            )
        if ref_x.size(0) == 0:
            raise ValueError('ref_x holds no reference proposal')
        weights = self.attention(x, ref_x)  # (h, N, M)
        values = self._heads(self.ref_fc(ref_x))  # (h, M, C / h)
        out = torch.bmm(weights, values).transpose(0, 1).reshape(x.size(0), self.in_channels)
        return self.fc(out)

    def extra_repr(self) -> str:
        return f'in_channels={self.in_channels}, num_attention_blocks={self.num_attention_blocks}'

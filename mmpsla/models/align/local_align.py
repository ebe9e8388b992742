"""Attention over a fixed set of local offsets (shared by PSLA, DensePSLA, MatchTrans)."""

from typing import Optional

import torch
from torch import Tensor

from mmpsla.ops import sparse_local_attention

from .base_align import BaseAlign


class LocalOffsetAlign(BaseAlign):
    """Alignment by attention over a static offset set (``mmpsla.ops.sparse_local_attention``).

    Subclasses choose the offsets and the normalisation. Output(p) = sum_o w_o(p) ref(p+o)
    with w = normalise_o(<g(query)(p), f(ref)(p+o)>), offsets outside the map excluded.

    Args:
        offsets (Tensor): (N, 2) integer (dy, dx) offsets.
        normalize (str): ``'softmax'`` or ``'sum'``.
        max_displacement (int): d, kept for ``repr``.
        **kwargs: See :class:`BaseAlign`.
    """

    def __init__(self, offsets: Tensor, normalize: str, max_displacement: int, **kwargs) -> None:
        super().__init__(**kwargs)
        if normalize not in ('softmax', 'sum'):
            raise ValueError(f'normalize must be "softmax" or "sum", got {normalize!r}')
        self.normalize = normalize
        self.max_displacement = max_displacement
        self.register_buffer('offsets', offsets.to(torch.long), persistent=False)

    def forward(self, query_feat: Tensor, ref_feat: Tensor, return_weights: bool = False):
        """Align ``ref_feat`` (B, C, H, W) with ``query_feat`` (B, Cq, H, W).

        Returns:
            Tensor | tuple: aligned (B, C, H, W) [, weights (B, N, H, W)].
        """
        query, key = self.embed(query_feat, ref_feat)
        return sparse_local_attention(
            query,
            key,
            ref_feat,
            self.offsets,
            normalize=self.normalize,
            return_weights=return_weights,
        )

    def extra_repr(self) -> str:
        return (
            f'{super().extra_repr()}, max_displacement={self.max_displacement}, '
            f'num_offsets={self.offsets.shape[0]}, normalize={self.normalize!r}'
        )


def _check_displacement(max_displacement: Optional[int]) -> int:
    if not isinstance(max_displacement, int) or max_displacement < 1:
        raise ValueError(f'max_displacement must be an int >= 1, got {max_displacement!r}')
    return max_displacement

"""Attention over a fixed set of local offsets (shared by PSLA, DensePSLA, MatchTrans)."""

from typing import Callable

import torch
from torch import Tensor

from mmpsla.ops import check_displacement, sparse_local_attention

from .base_align import BaseAlign


class LocalOffsetAlign(BaseAlign):
    """Alignment by attention over a static offset set (``mmpsla.ops.sparse_local_attention``).

    Subclasses choose the offsets (class attribute ``offset_set``: a function of d returning
    (N, 2) integer (dy, dx) offsets) and the normalisation (class attribute ``normalize``:
    ``'softmax'`` or ``'sum'``). Output(p) = sum_o w_o(p) ref(p+o) with
    w = normalise_o(<g(query)(p), f(ref)(p+o)>), offsets outside the map excluded.

    Args:
        in_channels (int): Channels of the features.
        embed_channels (int): Filters of the 1x1 embeddings f, g. Defaults to 256.
        max_displacement (int): d. Defaults to 4.
        **kwargs: ``query_channels``, ``scale`` (see :class:`BaseAlign`).
    """

    offset_set: Callable[[int], Tensor]
    normalize: str

    def __init__(
        self, in_channels: int, embed_channels: int = 256, max_displacement: int = 4, **kwargs
    ) -> None:
        super().__init__(in_channels=in_channels, embed_channels=embed_channels, **kwargs)
        if self.normalize not in ('softmax', 'sum'):
            raise ValueError(f'normalize must be "softmax" or "sum", got {self.normalize!r}')
        self.max_displacement = check_displacement(max_displacement, minimum=1)
        offsets = type(self).offset_set(self.max_displacement)
        self.register_buffer('offsets', offsets.to(torch.long), persistent=False)

    def attend(self, query: Tensor, key: Tensor, ref_feat: Tensor, return_weights: bool):
        """Attention over the offsets; returns aligned (B, C, H, W) [, weights (B, N, H, W)]."""
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

"""Common part of the feature-alignment modules: the embeddings f and g."""

from typing import Optional, Tuple

import torch.nn as nn
from torch import Tensor


class BaseAlign(nn.Module):
    """Aligns a reference feature map with a query feature map by attention.

    Every alignment module of mmpsla has the same interface,
    ``forward(query_feat, ref_feat) -> aligned_ref_feat``, so a config can swap PSLA,
    DensePSLA, MatchTrans and Nonlocal (paper Tables 2, 3, 5). The query is the frame being
    produced (``F^{t+eps}``), the reference the feature that is propagated (``F^t``).

    Embeddings (paper Eq. 1): ``g`` (query) and ``f`` (reference key) are 1x1 convolutions to
    ``embed_channels`` filters. The affinity is the plain inner product of the embeddings
    (the paper's choice), optionally multiplied by ``scale`` (a fixed temperature, e.g.
    ``embed_channels ** -0.5``); ``scale=1.0`` is the paper.

    Args:
        in_channels (int): Channels of the query and reference features.
        embed_channels (int): Filters of the embeddings f and g. Defaults to 256.
        query_channels (int, optional): Channels of the query if they differ from
            ``in_channels``.
        scale (float): Factor on the affinities. Defaults to 1.0 (plain inner product).
        nonneg_embed (bool): Apply a ReLU to both embeddings (MatchTrans normalises by the
            sum of affinities, which needs non-negative values). Defaults to False.
    """

    def __init__(
        self,
        in_channels: int,
        embed_channels: int = 256,
        query_channels: Optional[int] = None,
        scale: float = 1.0,
        nonneg_embed: bool = False,
    ) -> None:
        super().__init__()
        for name, value in (('in_channels', in_channels), ('embed_channels', embed_channels)):
            if not isinstance(value, int) or value <= 0:
                raise ValueError(f'{name} must be a positive int, got {value!r}')
        if not scale > 0:
            raise ValueError(f'scale must be positive, got {scale!r}')
        self.in_channels = in_channels
        self.query_channels = query_channels or in_channels
        self.embed_channels = embed_channels
        self.scale = float(scale)
        self.nonneg_embed = nonneg_embed
        self.query_embed = nn.Conv2d(self.query_channels, embed_channels, 1)  # g
        self.key_embed = nn.Conv2d(in_channels, embed_channels, 1)  # f
        self.init_weights()

    def init_weights(self) -> None:
        """Small normal init, zero bias: affinities start near 0 (near-uniform weights)."""
        for conv in (self.query_embed, self.key_embed):
            nn.init.normal_(conv.weight, std=0.01)
            nn.init.zeros_(conv.bias)

    def embed_ref(self, ref_feat: Tensor) -> Tensor:
        """``f(ref)`` (B, embed_channels, H, W): the reference's key embedding alone, which a
        caller that aligns many queries with one reference (non-key frames with one F_t)
        computes once and passes to :meth:`forward` as ``ref_key``."""
        key = self.key_embed(ref_feat)
        return key.relu() if self.nonneg_embed else key

    def embed(
        self, query_feat: Tensor, ref_feat: Tensor, ref_key: Optional[Tensor] = None
    ) -> Tuple[Tensor, Tensor]:
        """Return ``(g(query) * scale, f(ref))``, each (B, embed_channels, H, W); ``ref_key``
        (:meth:`embed_ref` of ``ref_feat``), when given, is used as ``f(ref)``."""
        if query_feat.dim() != 4 or ref_feat.dim() != 4:
            raise ValueError(
                'query_feat and ref_feat must be 4D (B, C, H, W), got '
                f'{tuple(query_feat.shape)} and {tuple(ref_feat.shape)}'
            )
        if query_feat.shape[0] != ref_feat.shape[0] or query_feat.shape[2:] != ref_feat.shape[2:]:
            raise ValueError(
                'query_feat and ref_feat must share batch and spatial sizes, got '
                f'{tuple(query_feat.shape)} and {tuple(ref_feat.shape)}'
            )
        if ref_key is None:
            key = self.embed_ref(ref_feat)
        elif ref_key.shape != (ref_feat.shape[0], self.embed_channels, *ref_feat.shape[2:]):
            raise ValueError(
                f'ref_key must be embed_ref(ref_feat), shape '
                f'{(ref_feat.shape[0], self.embed_channels, *ref_feat.shape[2:])}, got '
                f'{tuple(ref_key.shape)}'
            )
        else:
            key = ref_key
        query = self.query_embed(query_feat)
        if self.nonneg_embed:
            query = query.relu()
        if self.scale != 1.0:
            query = query * self.scale
        return query, key

    def forward(
        self,
        query_feat: Tensor,
        ref_feat: Tensor,
        return_weights: bool = False,
        ref_key: Optional[Tensor] = None,
    ):
        """Align ``ref_feat`` with ``query_feat``: embed both (Eq. 1), then :meth:`attend`.

        Args:
            query_feat (Tensor): (B, query_channels, H, W), the frame to produce.
            ref_feat (Tensor): (B, in_channels, H, W), the feature to propagate.
            return_weights (bool): Also return the attention weights.
            ref_key (Tensor, optional): :meth:`embed_ref` of ``ref_feat``, if the caller
                already has it (B, embed_channels, H, W).

        Returns:
            Tensor | tuple: (B, in_channels, H, W), ``ref_feat`` aligned to the query
            [, the weights (see the subclass)].
        """
        query, key = self.embed(query_feat, ref_feat, ref_key)
        return self.attend(query, key, ref_feat, return_weights)

    def attend(self, query: Tensor, key: Tensor, ref_feat: Tensor, return_weights: bool):
        """The subclass's attention: embedded ``query`` / ``key`` (B, E, H, W) weigh
        ``ref_feat`` (B, C, H, W)."""
        raise NotImplementedError

    def extra_repr(self) -> str:
        return (
            f'in_channels={self.in_channels}, query_channels={self.query_channels}, '
            f'embed_channels={self.embed_channels}, scale={self.scale}'
        )

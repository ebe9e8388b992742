"""Nonlocal (Wang et al. 2018) alignment: softmax attention over all positions."""

import torch
from mmdet.registry import MODELS
from torch import Tensor

from .base_align import BaseAlign


@MODELS.register_module()
class NonLocalAlign(BaseAlign):
    """Global attention: out(p) = sum_q softmax_q(<g(query)(p), f(ref)(q)>) ref(q).

    Memory is O((HW)^2) per image; fine at stride-16 resolutions.

    Args:
        in_channels (int): Channels of the features.
        embed_channels (int): Filters of the 1x1 embeddings f, g. Defaults to 256.
        **kwargs: ``query_channels``, ``scale`` (see :class:`BaseAlign`).
    """

    def __init__(self, in_channels: int, embed_channels: int = 256, **kwargs) -> None:
        super().__init__(in_channels=in_channels, embed_channels=embed_channels, **kwargs)

    def attend(self, query: Tensor, key: Tensor, ref_feat: Tensor, return_weights: bool):
        """Global softmax attention; returns aligned (B, C, H, W) [, weights (B, HW, H, W):
        weight of every reference position (flattened) for each query position]."""
        b, c, h, w = ref_feat.shape
        affinity = torch.einsum('bep,beq->bpq', query.flatten(2), key.flatten(2))  # (B, HW, HW)
        weights = affinity.softmax(dim=-1)
        out = torch.einsum('bpq,bcq->bcp', weights, ref_feat.flatten(2)).reshape(b, c, h, w)
        if return_weights:
            return out, weights.transpose(1, 2).reshape(b, h * w, h, w)
        return out

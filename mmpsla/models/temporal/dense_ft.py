"""Dense Feature Transforming (paper Sec. 3.4)."""

from typing import Optional, Sequence

import torch.nn as nn
from mmdet.registry import MODELS
from torch import Tensor

from ..scoped_build import build_det_module
from .fusion_weight_net import FusionWeightNet
from .transform_net import TransformNet


@MODELS.register_module()
class DenseFT(nn.Module):
    """Produces a non-key frame's feature from its F_l and the temporal feature F_t.

    q = TransformNet(F_l); F̂ = align(q, F_t); with the Quality Net the propagated feature
    is fused "with the low-level features F_l" (paper Sec. 3.4): (Ŵ, W) = QualityNet(F̂, F_l)
    and the output is Ŵ·F̂ + W·F_l. ``quality_input='transform'`` fuses with q instead.
    Without the Quality Net the output is F̂ (the paper's method (a)/(b)).

    Args:
        in_channels (int): Channels of F_l. Defaults to 1024.
        out_channels (int): Channels of F_h / F_t. Defaults to 1024.
        transform_channels (Sequence[int]): (reduce, mid) channels of the Transform Net.
            Defaults to (256, 256).
        align (dict): Alignment module config (``in_channels`` = ``out_channels`` filled in).
            Defaults to ``PSLAAlign`` (256 filters, d = 4).
        use_quality_net (bool): Fuse with the Quality Net. Defaults to True.
        quality_channels (Sequence[int]): Quality Net hidden channels. Defaults to (256, 16).
        quality_input (str): What the Quality Net fuses with the propagated feature:
            ``'low'`` (F_l, the paper's wording; needs ``in_channels == out_channels``) or
            ``'transform'`` (the Transform Net's output). Defaults to ``'low'``.
        transform_shortcut (bool): The Transform Net's residual shortcut ("bottleneck
            block", Sec. 3.5). Defaults to True.
    """

    def __init__(
        self,
        in_channels: int = 1024,
        out_channels: int = 1024,
        transform_channels: Sequence[int] = (256, 256),
        align: Optional[dict] = None,
        use_quality_net: bool = True,
        quality_channels: Sequence[int] = (256, 16),
        quality_input: str = 'low',
        transform_shortcut: bool = True,
    ) -> None:
        super().__init__()
        if quality_input not in ('low', 'transform'):
            raise ValueError(f"quality_input must be 'low' or 'transform', got {quality_input!r}")
        if use_quality_net and quality_input == 'low' and in_channels != out_channels:
            raise ValueError(
                f"quality_input='low' fuses F_l ({in_channels} channels) with the propagated "
                f"feature ({out_channels}); set quality_input='transform' or equal channels"
            )
        self.quality_input = quality_input
        if len(transform_channels) != 2:
            raise ValueError(f'transform_channels must have 2 entries, got {transform_channels!r}')
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.use_quality_net = use_quality_net
        self.transform_net = TransformNet(
            in_channels, out_channels, *transform_channels, shortcut=transform_shortcut
        )
        align = dict(align or {'type': 'PSLAAlign', 'embed_channels': 256, 'max_displacement': 4})
        align.setdefault('in_channels', out_channels)
        self.align = build_det_module(align)  # in mmdet's scope, whatever the default
        self.quality_net = (
            FusionWeightNet(out_channels, quality_channels) if use_quality_net else None
        )

    def embed_temporal(self, temporal_feat: Tensor) -> Tensor:
        """f(F_t) (B, embed_channels, H, W), the alignment's key embedding of F_t: the same
        for every non-key frame of a key frame, so inference computes it once per key frame
        and passes it to :meth:`forward` as ``temporal_key``."""
        return self.align.embed_ref(temporal_feat)

    def cached_temporal_key(self, state: dict) -> Tensor:
        """:meth:`embed_temporal` of ``state['temporal']`` (a video stream's F_t), computed
        once per F_t: kept in ``state['temporal_key']`` with the F_t it belongs to, and
        recomputed only when ``state['temporal']`` is another tensor (a new key frame)."""
        temporal = state['temporal']
        cached = state.get('temporal_key')
        if cached is None or cached[0] is not temporal:
            cached = state['temporal_key'] = (temporal, self.embed_temporal(temporal))
        return cached[1]

    def forward(
        self,
        low_feat: Tensor,
        temporal_feat: Tensor,
        return_weights: bool = False,
        temporal_key: Optional[Tensor] = None,
    ):
        """Feature of a non-key frame.

        Args:
            low_feat (Tensor): F_l (B, in_channels, H, W).
            temporal_feat (Tensor): F_t (B, out_channels, H, W).
            return_weights (bool): Also return the Quality Net's (Ŵ, W) (None without it).
            temporal_key (Tensor, optional): :meth:`embed_temporal` of ``temporal_feat``,
                computed once per key frame (otherwise computed here).

        Returns:
            Tensor | tuple: (B, out_channels, H, W) [, weights].
        """
        query = self.transform_net(low_feat)
        aligned = self.align(query, temporal_feat, ref_key=temporal_key)
        weights = None
        out = aligned
        if self.quality_net is not None:
            detail = low_feat if self.quality_input == 'low' else query
            weights = self.quality_net(aligned, detail)
            out = weights[0] * aligned + weights[1] * detail
        return (out, weights) if return_weights else out

    def extra_repr(self) -> str:
        return (
            f'in_channels={self.in_channels}, out_channels={self.out_channels}, '
            f'use_quality_net={self.use_quality_net}, quality_input={self.quality_input!r}'
        )

"""Temporal RoI Align (Gong et al., AAAI 2021): RoI features completed from other frames."""

from typing import Optional, Tuple

import torch
import torch.nn.functional as F
from mmcv.cnn import ConvModule
from mmdet.models.roi_heads.roi_extractors import SingleRoIExtractor
from mmdet.registry import MODELS
from torch import Tensor


@MODELS.register_module()
class TemporalRoIAlign(SingleRoIExtractor):
    """RoI Align on the key frame plus the most similar points of reference frames.

    For key-frame RoIs (``ref_feats`` given), after the usual RoI Align
    (``roi_feats`` (n, C, s, s)):

    1. *Most similar RoI align* (paper Sec. 3.1): for every RoI feature point ``p`` and
       every reference map ``R_t`` (the last level of ``ref_feats``, (T, C, H, W)), the
       cosine similarity of ``roi_feats[p]`` to each location of ``R_t`` is computed; the
       ``K = num_most_similar_points`` most similar locations are averaged with the
       softmax of their similarities as weights. This gives ``ref_roi_feats``
       (T, n, C, s, s): the RoI as seen in each reference frame, without boxes.
    2. *Temporal attentional feature aggregation* (Sec. 3.2): the T + 1 RoI features
       (key first) pass a 3x3 embedding conv (``embed_network``); with
       ``h = num_temporal_attention_blocks`` channel groups, the weight of frame t at
       each RoI point and group is ``softmax_t(<e_t, e_key> / sqrt(C / h))``, and the
       output is the weighted sum over frames. With ``h <= 0`` the T + 1 features are
       averaged instead.

    Reference-frame RoIs (``ref_feats`` None) get plain RoI Align.

    Args:
        num_most_similar_points (int): ``K``. Defaults to 2.
        num_temporal_attention_blocks (int): ``h``; ``<= 0`` averages. Defaults to 4.
        *args, **kwargs: ``SingleRoIExtractor`` arguments.
    """

    #: :class:`SelsaRoIHead` passes the reference features to key-frame RoIs.
    uses_reference_feats = True

    def __init__(
        self,
        num_most_similar_points: int = 2,
        num_temporal_attention_blocks: int = 4,
        *args,
        **kwargs,
    ) -> None:
        super().__init__(*args, **kwargs)
        if num_most_similar_points < 1:
            raise ValueError(f'num_most_similar_points must be >= 1, got {num_most_similar_points}')
        if num_temporal_attention_blocks > 0 and self.out_channels % num_temporal_attention_blocks:
            raise ValueError(
                f'num_temporal_attention_blocks ({num_temporal_attention_blocks}) must divide '
                f'out_channels ({self.out_channels})'
            )
        self.num_most_similar_points = num_most_similar_points
        self.num_temporal_attention_blocks = num_temporal_attention_blocks
        if num_temporal_attention_blocks > 0:
            self.embed_network = ConvModule(
                self.out_channels, self.out_channels, 3, padding=1, norm_cfg=None, act_cfg=None
            )

    def most_similar_roi_align(self, roi_feats: Tensor, ref_feats: Tensor) -> Tensor:
        """RoI features gathered from the most similar points of each reference map.

        Args:
            roi_feats (Tensor): (n, C, s, s) key-frame RoI features.
            ref_feats (Tensor): (T, C, H, W) reference feature maps.

        Returns:
            Tensor: (T, n, C, s, s).
        """
        n, c, s, _ = roi_feats.shape
        query = F.normalize(roi_feats.permute(0, 2, 3, 1).reshape(-1, c), dim=1)  # (n*s*s, C)
        k = min(self.num_most_similar_points, ref_feats.shape[2] * ref_feats.shape[3])
        out = []
        for ref in ref_feats:  # one frame at a time bounds the (n*s*s, H*W) similarity
            values = ref.reshape(c, -1)  # (C, H*W)
            sim = query @ F.normalize(values, dim=0)
            top, idx = sim.topk(k, dim=1)
            weights = top.softmax(dim=1)  # (n*s*s, K)
            picked = values.t()[idx]  # (n*s*s, K, C)
            out.append((picked * weights.unsqueeze(-1)).sum(dim=1))
        out = torch.stack(out, dim=0).reshape(len(ref_feats), n, s, s, c)
        return out.permute(0, 1, 4, 2, 3)

    def temporal_attentional_feature_aggregation(self, x: Tensor, ref_x: Tensor) -> Tensor:
        """Attention-weighted sum over frames.

        Args:
            x (Tensor): (1, n, C, s, s) key-frame RoI features.
            ref_x (Tensor): (T, n, C, s, s) most-similar RoI features.

        Returns:
            Tensor: (n, C, s, s).
        """
        feats = torch.cat((x, ref_x), dim=0)  # (T + 1, n, C, s, s)
        frames, n, c, s, _ = feats.shape
        heads = self.num_temporal_attention_blocks
        embed = self.embed_network(feats.reshape(frames * n, c, s, s))
        embed = embed.reshape(frames, n, heads, c // heads, s, s)
        logits = (embed * embed[:1]).sum(dim=3, keepdim=True) * (c / heads) ** -0.5
        weights = logits.softmax(dim=0).expand_as(embed).reshape(frames, n, c, s, s)
        return (feats * weights).sum(dim=0)

    def forward(
        self,
        feats: Tuple[Tensor],
        rois: Tensor,
        roi_scale_factor: Optional[float] = None,
        ref_feats: Optional[Tuple[Tensor]] = None,
    ) -> Tensor:
        """RoI features (n, C, s, s); temporal ones when ``ref_feats`` is given.

        Args:
            feats (tuple[Tensor]): feature maps of the RoIs' images.
            rois (Tensor): (n, 5) RoIs ``[batch_idx, x1, y1, x2, y2]``.
            roi_scale_factor (float, optional): RoI scale factor.
            ref_feats (tuple[Tensor], optional): reference feature maps; the last level
                (T, C, H, W) is used.
        """
        roi_feats = super().forward(feats, rois, roi_scale_factor)
        if ref_feats is None or roi_feats.size(0) == 0:
            return roi_feats
        ref_roi_feats = self.most_similar_roi_align(roi_feats, ref_feats[-1])
        if self.num_temporal_attention_blocks > 0:
            return self.temporal_attentional_feature_aggregation(roi_feats[None], ref_roi_feats)
        return torch.cat((roi_feats[None], ref_roi_feats), dim=0).mean(dim=0)

"""SELSA's box head: shared FCs interleaved with proposal-level aggregation."""

from typing import Tuple

import torch.nn as nn
from mmdet.models.roi_heads.bbox_heads import ConvFCBBoxHead
from mmdet.registry import MODELS
from torch import Tensor


@MODELS.register_module()
class SelsaBBoxHead(ConvFCBBoxHead):
    """A ``ConvFCBBoxHead`` whose shared FCs aggregate reference proposals (SELSA).

    After each shared FC layer ``l`` (paper Sec. 3.2, applied at every FC as in the
    reference implementation)::

        x   <- relu(fc_l(x) + A_l(fc_l(x), fc_l(r)))
        r   <- relu(fc_l(r))

    where ``x`` (N, ...) are the key-frame RoI features, ``r`` (M, ...) the reference
    frames' RoI features and ``A_l`` a :class:`SelsaAggregator` (one per shared FC, built
    from ``aggregator``). The classification and regression branches then run on ``x``
    as in ``ConvFCBBoxHead``.

    Args:
        aggregator (dict): ``SelsaAggregator`` config (``in_channels`` = ``fc_out_channels``).
        *args, **kwargs: ``ConvFCBBoxHead`` arguments (``num_shared_fcs`` >= 1).
    """

    def __init__(self, aggregator: dict, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if self.num_shared_fcs < 1:
            raise ValueError('SelsaBBoxHead aggregates after shared FCs: num_shared_fcs >= 1')
        self.aggregator = nn.ModuleList(
            MODELS.build(dict(aggregator)) for _ in range(self.num_shared_fcs)
        )
        self.relu_ref = nn.ReLU(inplace=False)

    def _branch(self, x: Tensor, convs: nn.ModuleList, fcs: nn.ModuleList) -> Tensor:
        for conv in convs:
            x = conv(x)
        if x.dim() > 2:
            if self.with_avg_pool:
                x = self.avg_pool(x)
            x = x.flatten(1)
        for fc in fcs:
            x = self.relu(fc(x))
        return x

    def forward(self, x: Tensor, ref_x: Tensor) -> Tuple[Tensor, Tensor]:
        """Class scores and box deltas of the key-frame RoIs.

        Args:
            x (Tensor): (N, C, 7, 7) key-frame RoI features.
            ref_x (Tensor): (M, C, 7, 7) reference RoI features.

        Returns:
            tuple: ``cls_score`` (N, num_classes + 1) and ``bbox_pred`` (N, 4 or
            4 * num_classes).
        """
        for conv in self.shared_convs:
            x, ref_x = conv(x), conv(ref_x)
        if self.with_avg_pool:
            x, ref_x = self.avg_pool(x), self.avg_pool(ref_x)
        x, ref_x = x.flatten(1), ref_x.flatten(1)
        for fc, aggregator in zip(self.shared_fcs, self.aggregator):
            x, ref_x = fc(x), fc(ref_x)
            x = self.relu_ref(x + aggregator(x, ref_x))
            ref_x = self.relu_ref(ref_x)
        x_cls = self._branch(x, self.cls_convs, self.cls_fcs)
        x_reg = self._branch(x, self.reg_convs, self.reg_fcs)
        cls_score = self.fc_cls(x_cls) if self.with_cls else None
        bbox_pred = self.fc_reg(x_reg) if self.with_reg else None
        return cls_score, bbox_pred

"""SELSA's RoI head: mmdet's StandardRoIHead with reference proposals."""

from contextlib import contextmanager
from typing import Iterator, List, Sequence, Tuple

from mmdet.models.roi_heads import StandardRoIHead
from mmdet.registry import MODELS
from mmdet.structures import DetDataSample
from mmdet.structures.bbox import bbox2roi
from mmengine.structures import InstanceData
from torch import Tensor


@MODELS.register_module()
class SelsaRoIHead(StandardRoIHead):
    """RoI head whose box head sees the reference frames' proposals (SELSA, TRoI Align).

    Assignment, sampling, losses and post-processing are mmdet's ``StandardRoIHead``'s;
    only the box forward differs: the key-frame RoIs and the reference RoIs are pooled
    (the key-frame ones with the reference maps too when the extractor is a
    :class:`TemporalRoIAlign`) and the box head (:class:`SelsaBBoxHead`) aggregates
    the references into the key-frame features.

    ``loss`` / ``predict`` take, before mmdet's arguments, the reference feature maps
    ``ref_x`` (tuple of (T, C, h, w)) and their proposals ``ref_rpn_results_list``
    (T InstanceData with ``bboxes``); the RoIs of all T references form one set.
    """

    @contextmanager
    def _references(self, ref_x: Tuple[Tensor], ref_rpn_results_list: Sequence[InstanceData]):
        if len(ref_rpn_results_list) != ref_x[0].size(0):
            raise ValueError(
                f'{ref_x[0].size(0)} reference maps but {len(ref_rpn_results_list)} '
                'reference proposal sets'
            )
        self._ref = (ref_x, bbox2roi([res.bboxes for res in ref_rpn_results_list]))
        try:
            yield
        finally:
            del self._ref

    def _bbox_forward(self, x: Tuple[Tensor], rois: Tensor) -> dict:
        """Box head on key RoIs ``rois`` (n, 5) with the current references -> scores."""
        if not hasattr(self, '_ref'):
            raise RuntimeError('SelsaRoIHead needs reference frames: call loss/predict')
        ref_x, ref_rois = self._ref
        extractor = self.bbox_roi_extractor
        num = extractor.num_inputs
        if getattr(extractor, 'uses_reference_feats', False):
            bbox_feats = extractor(x[:num], rois, ref_feats=ref_x[:num])
        else:
            bbox_feats = extractor(x[:num], rois)
        ref_feats = extractor(ref_x[:num], ref_rois)
        if self.with_shared_head:
            bbox_feats = self.shared_head(bbox_feats)
            ref_feats = self.shared_head(ref_feats)
        cls_score, bbox_pred = self.bbox_head(bbox_feats, ref_feats)
        return dict(cls_score=cls_score, bbox_pred=bbox_pred, bbox_feats=bbox_feats)

    def loss(
        self,
        x: Tuple[Tensor],
        ref_x: Tuple[Tensor],
        rpn_results_list: List[InstanceData],
        ref_rpn_results_list: List[InstanceData],
        data_samples: List[DetDataSample],
    ) -> dict:
        """Box losses of the key frame(s) of ONE video clip (all share the references)."""
        with self._references(ref_x, ref_rpn_results_list):
            return super().loss(x, rpn_results_list, data_samples)

    def predict(
        self,
        x: Tuple[Tensor],
        ref_x: Tuple[Tensor],
        rpn_results_list: List[InstanceData],
        ref_rpn_results_list: List[InstanceData],
        data_samples: List[DetDataSample],
        rescale: bool = False,
    ) -> List[InstanceData]:
        """Detections of the key frame(s) given the references."""
        with self._references(ref_x, ref_rpn_results_list):
            return super().predict(x, rpn_results_list, data_samples, rescale=rescale)

    def forward(self, x, rpn_results_list, batch_data_samples=None) -> Iterator:
        """Raw outputs need the references too; see :meth:`loss` / :meth:`predict`."""
        raise NotImplementedError('SelsaRoIHead.forward: use the SELSA detector (tensor mode)')

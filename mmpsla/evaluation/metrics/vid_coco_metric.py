"""mmtrack 1.x's COCO-style video metric: mmdet's COCO box AP over every frame."""

from __future__ import annotations

from typing import Any, Dict, List, Sequence

from mmdet.evaluation import CocoMetric
from mmdet.registry import METRICS

from .frame_results import EvaluateEveryFrame, frame_prediction


@METRICS.register_module()
class VIDCocoMetric(EvaluateEveryFrame, CocoMetric):
    """COCO box AP of video detections, the metric of mmtrack 1.x's VID model zoo.

    mmtrack 1.x evaluates ImageNet VID with ``CocoVideoMetric``: mmdet's COCO evaluation
    (pycocotools, IoU 0.50:0.95, no small-object threshold, continuous boxes) over every
    frame of the annotation file, and reports ``bbox_mAP_50`` as its VID mAP. Those
    numbers are not on the ImageNet VID devkit's scale of :class:`VIDMetric` (the scale
    of the DFF/FGFA/PSLA papers). mmdet 3.3's own ``CocoVideoMetric`` cannot be used
    here: it reads the frames by position and calls ``CocoMetric.process`` without its
    ``data_batch`` argument. This class feeds ``CocoMetric`` the current frame of each
    test sample (as :class:`VIDMetric` does), maps labels to category ids by class name,
    and evaluates every frame once, whatever ``size`` the loop passes.

    Frames that received no prediction are evaluated too (their ground truth is missed).
    Results (with the default ``prefix='coco'``): ``coco/bbox_mAP``, ``coco/bbox_mAP_50``
    (mmtrack's VID number), ``coco/bbox_mAP_75``, ``coco/bbox_mAP_s/m/l``.

    Args:
        ann_file (str): The CocoVID JSON with the ground truth (required).
        metric (str | list[str]): Defaults to ``'bbox'``.
        **kwargs: Other arguments of ``mmdet.evaluation.CocoMetric``.
    """

    def __init__(self, ann_file: str | None = None, metric: str | List[str] = 'bbox', **kwargs):
        if not ann_file:
            raise ValueError(f'{type(self).__name__} needs ann_file (the CocoVID JSON)')
        super().__init__(ann_file=ann_file, metric=metric, **kwargs)
        self.ann_file = ann_file

    def process(self, data_batch: Any, data_samples: Sequence[Any]) -> None:
        """Store ``(gt, prediction)`` of each sample's current frame (``CocoMetric``'s form)."""
        for sample in data_samples:
            img_id, boxes, scores, labels, _ = frame_prediction(sample, type(self).__name__)
            self.results.append(self.frame_result(img_id, boxes, scores, labels))

    @staticmethod
    def frame_result(img_id: int, boxes, scores, labels) -> tuple:
        """``CocoMetric``'s per-frame ``(gt, prediction)`` pair (ground truth comes from
        ``ann_file``, so ``gt`` only names the image)."""
        pred = dict(
            img_id=img_id,
            bboxes=boxes.astype('float32'),
            scores=scores.astype('float32'),
            labels=labels,
        )
        return dict(img_id=img_id), pred

    def compute_metrics(self, results: List[tuple]) -> Dict[str, float]:
        """mmdet's COCO evaluation, with labels mapped to category ids by class name."""
        if self.cat_ids is None:
            classes = (self.dataset_meta or {}).get('classes')
            cats = sorted(self._coco_api.cats.values(), key=lambda c: c['id'])
            by_name = {c['name']: c['id'] for c in cats}
            if classes is None:
                classes = [c['name'] for c in cats]
                self.dataset_meta = dict(self.dataset_meta or {}, classes=tuple(classes))
            missing = [name for name in classes if name not in by_name]
            if missing:
                raise ValueError(f'classes {missing} are not categories of {self.ann_file}')
            self.cat_ids = [by_name[name] for name in classes]
        return super().compute_metrics(results)

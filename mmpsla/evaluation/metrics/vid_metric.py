"""ImageNet VID mAP@50 with FGFA's motion breakdown (``VIDMetric``)."""

from __future__ import annotations

import warnings
from collections import defaultdict
from typing import Any, Dict, List, Sequence

import mmengine
import numpy as np
from mmdet.registry import METRICS
from mmengine.evaluator import BaseMetric
from mmengine.fileio import get_local_path
from mmengine.logging import MMLogger

from ..functional import (
    DEFAULT_BOX_CONVENTION,
    MOTION_RANGES,
    check_box_convention,
    empty_frame_weight,
    eval_vid_map,
    in_motion_range,
    motion_ious,
)
from ..post.seq_nms import seq_nms as run_seq_nms
from .frame_results import EvaluateEveryFrame, field, frame_prediction


@METRICS.register_module()
class VIDMetric(EvaluateEveryFrame, BaseMetric):
    """ImageNet VID detection metric: the ILSVRC devkit's AP@50, as FGFA evaluates it.

    The rules are those of FGFA's released evaluation (``imagenet_vid_eval.py`` and
    ``imagenet_vid_eval_motion.py``), see :mod:`mmpsla.evaluation.functional.vid_eval`:
    every frame of ``ann_file`` counts (a frame that got no prediction has its ground
    truth missed), IoU in the file's box convention with the small-object threshold
    ``min(0.5, wh / ((w+10)(h+10)))``, one match per ground-truth box, VOC all-point AP,
    mAP over the classes with ground truth. The slow / medium / fast breakdown uses FGFA's
    motion IoU (:mod:`mmpsla.evaluation.functional.motion`; closed ranges [0.9, 1],
    [0.7, 0.9], [0, 0.7]) and FGFA's scoring rule (detections absorbed by ground truth of
    other categories, weighted false positives).

    **Box convention.** The ground truth's ``bbox`` is read in the convention the file
    declares in its top-level ``box_convention`` field (``'inclusive_pixels'``: ILSVRC
    pixel indices, written by our ImageNet converters; ``'continuous'``: box edges, as in
    COCO); a file without the field (the toy set, older conversions) is read as
    ``'continuous'``. Predictions are read in the same convention (a model predicts boxes
    in the convention it was trained on).

    Input: each ``data_sample`` handed to :meth:`process` is a
    ``TrackDataSample`` (or its ``to_dict()``) whose current frame
    (``video_data_samples[key_frames_inds[0]]``) carries ``img_id`` and ``pred_instances``
    (``bboxes`` (n, 4) xyxy in original image coordinates, ``scores`` (n,), ``labels``
    (n,)); a plain ``DetDataSample`` works too. Labels index ``dataset_meta['classes']``
    (the categories of ``ann_file`` sorted by id when no dataset meta is set).

    Results (with ``prefix='vid'``): ``vid/mAP`` (mAP@50, the headline number),
    ``vid/mAP_slow``, ``vid/mAP_medium``, ``vid/mAP_fast`` (when ``motion_breakdown``),
    ``vid/mAP_degraded`` and ``vid/mAP_clean`` (when the images carry ``is_degraded``, as
    the toy set does), ``vid/mAP_key_frames`` and ``vid/mAP_non_key_frames`` (when the
    predicted frames carry ``is_key_frame``, as ``PSLAKeyFrameSchedule`` sets it: for PSLA
    these are the frames run by N_f and by N_l + DenseFT), ``vid/AP_<class>`` (when
    ``classwise``) and, with ``coco_metric``, mmtrack's COCO-style numbers
    ``vid/coco_bbox_mAP_50`` etc. (:class:`VIDCocoMetric` on the same detections). The
    frame subsets (degraded, key frames...) use the overall rules on their frames.
    Classes without ground truth in a view are left out of its mean (``nan`` if none has
    any).

    With ``seq_nms`` the collected detections are first post-processed video by video
    with :func:`mmpsla.evaluation.post.seq_nms` (the frames of a video, grouped by the
    images' ``video_id`` and ordered by ``frame_id``; only frames that received a
    prediction take part), and every metric above is computed on the result.

    Args:
        ann_file (str): CocoVID JSON with the ground truth.
        iou_thr (float): Base IoU threshold. Defaults to 0.5.
        motion_breakdown (bool): Report slow/medium/fast mAP. Defaults to True.
        motion_window (int): Motion-IoU neighbourhood (± frames). Defaults to 10.
        classwise (bool): Report per-class AP. Defaults to True.
        progress (bool): Show progress bars while matching. Defaults to True.
        backend_args (dict, optional): File backend arguments for ``ann_file``.
        collect_device (str): ``'cpu'`` or ``'gpu'``. Defaults to ``'cpu'``.
        prefix (str): Metric name prefix. Defaults to ``'vid'``.
        seq_nms (dict | bool, optional): Seq-NMS post-processing before evaluation:
            None or False: off; True: on with the defaults of
            :func:`mmpsla.evaluation.post.seq_nms`; a dict: on, with these keyword
            arguments of it (``link_iou_thr``, ``suppress_iou_thr``, ``rescore``).
            Defaults to None.
        box_convention (str, optional): ``'continuous'`` or ``'inclusive_pixels'``, for
            files that do not declare theirs (a file that declares another one is
            refused). Defaults to None: the file's, else ``'continuous'``.
        coco_metric (dict | bool): Also report mmdet's COCO box AP (mmtrack 1.x's VID
            metric) of the same detections: False: off; True: on; a dict: on, with
            these keyword arguments of :class:`VIDCocoMetric`. Needs pycocotools and
            COCO fields (``area``, ``iscrowd``) in ``ann_file``. Defaults to False.
    """

    default_prefix: str | None = 'vid'

    def __init__(
        self,
        ann_file: str,
        iou_thr: float = 0.5,
        motion_breakdown: bool = True,
        motion_window: int = 10,
        classwise: bool = True,
        progress: bool = True,
        backend_args: dict | None = None,
        collect_device: str = 'cpu',
        prefix: str | None = None,
        seq_nms: dict | bool | None = None,
        box_convention: str | None = None,
        coco_metric: dict | bool = False,
    ) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        if not 0 < iou_thr <= 1:
            raise ValueError(f'iou_thr must be in (0, 1], got {iou_thr}')
        if motion_window < 1:
            raise ValueError(f'motion_window must be >= 1, got {motion_window}')
        self.ann_file = ann_file
        self.iou_thr = iou_thr
        self.motion_breakdown = motion_breakdown
        self.motion_window = motion_window
        self.classwise = classwise
        self.progress = progress
        self.backend_args = backend_args
        self.box_convention = (
            None if box_convention is None else check_box_convention(box_convention)
        )
        if seq_nms is None or seq_nms is False:
            self.seq_nms = None
        elif seq_nms is True:
            self.seq_nms = {}
        elif isinstance(seq_nms, dict):
            self.seq_nms = dict(seq_nms)
        else:
            raise ValueError(f'seq_nms must be None, a bool or a dict, got {seq_nms!r}')
        if self.seq_nms is not None:
            try:  # check the arguments now rather than after a whole test epoch
                run_seq_nms([], **self.seq_nms)
            except TypeError as err:
                raise ValueError(f'bad seq_nms arguments {self.seq_nms}: {err}') from err
        if coco_metric is True:
            coco_metric = {}
        if coco_metric is not False and not isinstance(coco_metric, dict):
            raise ValueError(f'coco_metric must be a bool or a dict, got {coco_metric!r}')
        self.coco_metric = coco_metric if isinstance(coco_metric, dict) else None
        self._coco = None
        if self.coco_metric is not None:  # built now: a bad argument fails before testing
            from .vid_coco_metric import VIDCocoMetric

            self._coco = VIDCocoMetric(
                ann_file=ann_file, backend_args=backend_args, **self.coco_metric
            )

    def process(self, data_batch: Any, data_samples: Sequence[Any]) -> None:
        """Store ``(img_id, boxes, scores, labels, is_key_frame)`` of each sample's current
        frame (``is_key_frame`` is None when its metainfo has no such flag)."""
        for sample in data_samples:
            img_id, boxes, scores, labels, frame = frame_prediction(sample, 'VIDMetric')
            is_key = field(frame, 'is_key_frame')
            is_key = None if is_key is None else bool(is_key)
            self.results.append((img_id, boxes, scores, labels, is_key))

    def _load_gt(self, classes: Sequence[str] | None):
        """Classes, images (file order), per-image ground truth and the box convention."""
        with get_local_path(self.ann_file, backend_args=self.backend_args) as path:
            coco_vid = mmengine.load(path)
        declared = coco_vid.get('box_convention')
        if declared is not None:
            check_box_convention(declared)
            if self.box_convention is not None and self.box_convention != declared:
                raise ValueError(
                    f'VIDMetric(box_convention={self.box_convention!r}) but {self.ann_file} '
                    f'declares box_convention={declared!r}; drop the argument'
                )
        convention = declared or self.box_convention or DEFAULT_BOX_CONVENTION
        if declared is None and self.box_convention is None:
            MMLogger.get_current_instance().info(
                f'VIDMetric: {self.ann_file} declares no box_convention; boxes are read as '
                f'{DEFAULT_BOX_CONVENTION!r} (for an ILSVRC conversion without the field, e.g. '
                "mmtrack's, set box_convention='inclusive_pixels')"
            )
        cats = sorted(coco_vid['categories'], key=lambda c: c['id'])
        if classes is None:
            classes = [c['name'] for c in cats]
        name_to_label = {name: i for i, name in enumerate(classes)}
        cat_to_label = {c['id']: name_to_label.get(c['name']) for c in cats}
        anns = defaultdict(list)
        for ann in coco_vid['annotations']:
            if cat_to_label.get(ann['category_id']) is not None:
                anns[ann['image_id']].append(ann)
        images = {img['id']: img for img in coco_vid['images']}
        gts = {}
        for img_id in images:
            boxes, labels, ignore, inst = [], [], [], []
            for k, ann in enumerate(anns[img_id]):
                x, y, w, h = ann['bbox']
                boxes.append([x, y, x + w, y + h])
                labels.append(cat_to_label[ann['category_id']])
                ignore.append(bool(ann.get('iscrowd', False) or ann.get('ignore', False)))
                inst.append(ann.get('instance_id', -1 - k))
            gts[img_id] = (
                np.asarray(boxes, np.float64).reshape(-1, 4),
                np.asarray(labels, np.int64),
                np.asarray(ignore, bool),
                np.asarray(inst, np.int64),
            )
        return list(classes), images, gts, convention

    def _collect(self, results: List[tuple], images: dict, num_classes: int):
        """``img_id -> (boxes, scores, labels)`` and ``img_id -> is_key_frame``."""
        dets, key_flags = {}, {}
        for img_id, boxes, scores, labels, is_key in results:
            if img_id not in images:
                raise ValueError(f'prediction for img_id {img_id} not in {self.ann_file}')
            if img_id in dets:
                warnings.warn(
                    f'VIDMetric: img_id {img_id} predicted twice; keeping the first', stacklevel=2
                )
                continue
            if len(labels) and (labels.min() < 0 or labels.max() >= num_classes):
                raise ValueError(f'img_id {img_id}: labels outside [0, {num_classes})')
            dets[img_id] = (boxes, scores, labels)
            if is_key is not None:
                key_flags[img_id] = is_key
        return dets, key_flags

    def _motion_categories(self, images: dict, gts: dict, convention: str) -> dict:
        """``name -> (img_id -> (M,) in range, empty-frame weight)`` per motion category."""

        def frame_key(img_id):
            return images[img_id].get('video_id', -img_id), images[img_id].get('frame_id', 0)

        mious = motion_ious(
            [(*frame_key(i), gts[i][0], gts[i][3]) for i in images],
            self.motion_window,
            convention,
        )
        per_image = {i: mious[frame_key(i)] for i in images}
        all_values = np.concatenate([per_image[i] for i in images]) if images else np.zeros(0)
        num_empty = sum(len(gts[i][1]) == 0 for i in images)
        return {
            name: (
                {i: in_motion_range(per_image[i], rng) for i in images},
                empty_frame_weight(all_values, num_empty, rng),
            )
            for name, rng in MOTION_RANGES.items()
        }

    def compute_metrics(self, results: List[tuple]) -> Dict[str, float]:
        """Compute mAP (and its breakdowns) from all collected per-frame results."""
        logger = MMLogger.get_current_instance()
        classes = (self.dataset_meta or {}).get('classes')
        classes, images, gts, convention = self._load_gt(classes)
        dets, key_flags = self._collect(results, images, len(classes))
        if self.seq_nms is not None:
            dets = self._apply_seq_nms(dets, images)
        missing = len(images) - len(dets)
        if missing:
            warnings.warn(
                f'VIDMetric: {missing} of {len(images)} frames of {self.ann_file} got no '
                'prediction; their ground truth counts as missed (the devkit evaluates '
                'every frame of the image set)',
                stacklevel=2,
            )
        categories = {'all': (None, 1.0)}
        if self.motion_breakdown:
            categories.update(self._motion_categories(images, gts, convention))
        subsets = {}
        if any('is_degraded' in img for img in images.values()):
            subsets['degraded'] = [i for i, img in images.items() if img.get('is_degraded')]
            subsets['clean'] = [i for i, img in images.items() if not img.get('is_degraded')]
        if key_flags:
            subsets['key_frames'] = [i for i, key in key_flags.items() if key]
            subsets['non_key_frames'] = [i for i, key in key_flags.items() if not key]
        views = eval_vid_map(
            dets,
            {i: gt[:3] for i, gt in gts.items()},
            len(classes),
            self.iou_thr,
            convention,
            categories,
            subsets,
            list(images),
            'VID mAP' if self.progress else None,
        )
        metrics: Dict[str, float] = {'mAP': views['all'][0]}
        for name in list(categories)[1:] + list(subsets):
            metrics[f'mAP_{name}'] = views[name][0]
        if self.classwise:
            for name, ap in zip(classes, views['all'][1]):
                metrics[f'AP_{name}'] = ap
        logger.info(
            f'VID evaluation ({convention} boxes): '
            + ', '.join(f'{k}={v:.4f}' for k, v in metrics.items() if not k.startswith('AP_'))
        )
        if self._coco is not None:
            metrics.update(self._coco_metrics(dets, classes))
        return metrics

    def _coco_metrics(self, dets: Dict[int, tuple], classes: List[str]) -> Dict[str, float]:
        """mmdet's COCO evaluation of ``dets`` (:class:`VIDCocoMetric`), keys ``coco_*``."""
        self._coco.dataset_meta = dict(self.dataset_meta or {}, classes=tuple(classes))
        self._coco.cat_ids = None
        pairs = [self._coco.frame_result(i, *det) for i, det in dets.items()]
        if not pairs:
            return {}
        return {f'coco_{k}': v for k, v in self._coco.compute_metrics(pairs).items()}

    def _apply_seq_nms(self, dets: Dict[int, tuple], images: Dict[int, dict]) -> Dict[int, tuple]:
        """Seq-NMS on ``dets`` (``img_id -> (boxes, scores, labels)``), video by video."""
        videos = defaultdict(list)
        for img_id in dets:
            videos[images[img_id].get('video_id', -img_id)].append(img_id)
        out = {}
        for img_ids in videos.values():
            img_ids.sort(key=lambda i: (images[i].get('frame_id', 0), i))
            for img_id, frame in zip(
                img_ids, run_seq_nms([dets[i] for i in img_ids], **self.seq_nms)
            ):
                out[img_id] = frame
        before = sum(len(d[1]) for d in dets.values())
        after = sum(len(d[1]) for d in out.values())
        MMLogger.get_current_instance().info(
            f'VIDMetric: Seq-NMS ({self.seq_nms or "defaults"}) over {len(videos)} videos kept '
            f'{after} of {before} detections'
        )
        return out

    def __repr__(self) -> str:
        return (
            f'{type(self).__name__}(ann_file={self.ann_file!r}, iou_thr={self.iou_thr}, '
            f'motion_breakdown={self.motion_breakdown}, motion_window={self.motion_window}, '
            f'classwise={self.classwise}, seq_nms={self.seq_nms}, '
            f'box_convention={self.box_convention}, coco_metric={self.coco_metric})'
        )

"""ImageNet VID mAP@50 with FGFA's motion breakdown (``VIDMetric``)."""

from __future__ import annotations

import warnings
from collections import defaultdict
from typing import Any, Dict, List, Sequence

import mmengine
import numpy as np
from mmdet.registry import METRICS
from mmengine.dist import all_gather_object
from mmengine.evaluator import BaseMetric
from mmengine.fileio import get_local_path
from mmengine.logging import MMLogger

from ...models.post.seq_nms import seq_nms as run_seq_nms
from ..functional.vid_eval import MOTION_RANGES, eval_vid_map, motion_category, motion_ious


def _field(obj: Any, key: str, default: Any = None) -> Any:
    """``obj[key]`` for dicts, ``obj.key`` for data elements."""
    if isinstance(obj, dict):
        return obj.get(key, default)
    return getattr(obj, key, default)


def _numpy(value: Any, dtype=None) -> np.ndarray:
    if hasattr(value, 'detach'):
        value = value.detach().cpu().numpy()
    return np.asarray(value, dtype=dtype)


@METRICS.register_module()
class VIDMetric(BaseMetric):
    """ImageNet VID detection metric: per-class AP at IoU 0.5 following the VID devkit.

    See :mod:`mmpsla.evaluation.functional.vid_eval` for the exact protocol (small-object
    IoU threshold ``min(0.5, wh / ((w+10)(h+10)))``, one match per ground truth, devkit
    AP) and the FGFA motion-IoU breakdown.

    Input (contract 4): each ``data_sample`` handed to :meth:`process` is a
    ``TrackDataSample`` (or its ``to_dict()``) whose ``video_data_samples[key_frames_inds[0]]``
    carries ``img_id`` and ``pred_instances`` (``bboxes`` (n, 4) xyxy in original image
    coordinates, ``scores`` (n,), ``labels`` (n,)); a plain ``DetDataSample`` works too.
    Ground truth is read from ``ann_file`` (CocoVID JSON) by ``img_id``; only frames that
    received a prediction are evaluated (a warning says how many frames of the file were
    not). Labels index ``dataset_meta['classes']`` (the categories of ``ann_file`` sorted by
    id when no dataset meta is set).

    Results (with ``prefix='vid'``): ``vid/mAP`` (mAP@50, the headline number),
    ``vid/mAP_slow``, ``vid/mAP_medium``, ``vid/mAP_fast`` (when ``motion_breakdown``),
    ``vid/mAP_degraded`` and ``vid/mAP_clean`` (when the images carry ``is_degraded``, as
    the toy set does), ``vid/mAP_key_frames`` and ``vid/mAP_non_key_frames`` (when the
    predicted frames carry ``is_key_frame``, as ``PSLAKeyFrameSchedule`` sets it: for PSLA
    these are the frames run by N_f and by N_l + DenseFT) and ``vid/AP_<class>`` (when
    ``classwise``). Classes without ground
    truth in a subset are left out of that subset's mean (``nan`` if none has any).

    With ``seq_nms`` the collected detections are first post-processed video by video
    with :func:`mmpsla.models.post.seq_nms` (the frames of a video, grouped by the
    images' ``video_id`` and ordered by ``frame_id``; only frames that received a
    prediction take part, so consecutive predicted frames are linked), and every metric
    above is computed on the result.

    Distributed evaluation uses ``BaseMetric``'s collection of the per-frame results; the
    computation runs in :meth:`compute_metrics` on rank 0.

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
            :func:`mmpsla.models.post.seq_nms`; a dict: on, with these keyword arguments
            of it (``link_iou_thr``, ``suppress_iou_thr``, ``rescore``). Defaults to None.
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

    def process(self, data_batch: Any, data_samples: Sequence[Any]) -> None:
        """Store ``(img_id, boxes, scores, labels, is_key_frame)`` of each sample's current
        frame (``is_key_frame`` is None when its metainfo has no such flag)."""
        for sample in data_samples:
            frames = _field(sample, 'video_data_samples')
            if frames is None:
                frame = sample
            else:
                key_inds = _field(sample, 'key_frames_inds') or [len(frames) - 1]
                frame = frames[key_inds[0]]
            img_id = _field(frame, 'img_id')
            pred = _field(frame, 'pred_instances')
            if img_id is None or pred is None:
                raise ValueError(
                    'VIDMetric needs img_id and pred_instances on the current frame of each '
                    f'data sample (contract 4); got img_id={img_id}, pred_instances={pred}'
                )
            boxes = _numpy(_field(pred, 'bboxes'), np.float64).reshape(-1, 4)
            scores = _numpy(_field(pred, 'scores'), np.float64).reshape(-1)
            labels = _numpy(_field(pred, 'labels'), np.int64).reshape(-1)
            if not len(boxes) == len(scores) == len(labels):
                raise ValueError(
                    f'img_id {img_id}: {len(boxes)} boxes, {len(scores)} scores and '
                    f'{len(labels)} labels'
                )
            is_key = _field(frame, 'is_key_frame')
            is_key = None if is_key is None else bool(is_key)
            self.results.append((int(img_id), boxes, scores, labels, is_key))

    def _load_gt(self, classes: Sequence[str] | None):
        with get_local_path(self.ann_file, backend_args=self.backend_args) as path:
            coco_vid = mmengine.load(path)
        cats = sorted(coco_vid['categories'], key=lambda c: c['id'])
        if classes is None:
            classes = [c['name'] for c in cats]
        name_to_label = {name: i for i, name in enumerate(classes)}
        cat_to_label = {c['id']: name_to_label.get(c['name']) for c in cats}
        anns = defaultdict(list)
        for ann in coco_vid['annotations']:
            if cat_to_label.get(ann['category_id']) is not None and not ann.get('ignore', False):
                anns[ann['image_id']].append(ann)
        images = {img['id']: img for img in coco_vid['images']}
        gts = {}
        for img_id, _img in images.items():
            boxes, labels, ignore, inst = [], [], [], []
            for k, ann in enumerate(anns[img_id]):
                x, y, w, h = ann['bbox']
                boxes.append([x, y, x + w, y + h])
                labels.append(cat_to_label[ann['category_id']])
                ignore.append(bool(ann.get('iscrowd', False)))
                inst.append(ann.get('instance_id', -1 - k))
            gts[img_id] = (
                np.asarray(boxes, np.float64).reshape(-1, 4),
                np.asarray(labels, np.int64),
                np.asarray(ignore, bool),
                np.asarray(inst, np.int64),
            )
        return list(classes), images, gts

    def evaluate(self, size: int) -> Dict[str, float]:
        """Collect the per-frame results of every process and compute the metrics.

        The mmengine loops pass ``size=len(dataset)``, which for a video dataset is the
        number of *videos*, while :meth:`process` stores one result per *frame*;
        ``BaseMetric.evaluate`` would truncate the collected results to ``size`` (also in
        a single process). The true number of frames, summed over the processes, is used
        instead, so every frame is evaluated exactly once.

        Args:
            size: Ignored (see above); kept for the ``BaseMetric`` interface.
        """
        total = sum(all_gather_object(len(self.results)))
        return super().evaluate(total)

    def compute_metrics(self, results: List[tuple]) -> Dict[str, float]:
        """Compute mAP (and its breakdowns) from all collected per-frame results."""
        logger = MMLogger.get_current_instance()
        classes = (self.dataset_meta or {}).get('classes')
        classes, images, gts = self._load_gt(classes)
        dets, key_flags = {}, {}
        for img_id, boxes, scores, labels, is_key in results:
            if img_id not in images:
                raise ValueError(f'prediction for img_id {img_id} not in {self.ann_file}')
            if img_id in dets:
                warnings.warn(
                    f'VIDMetric: img_id {img_id} predicted twice; keeping the first', stacklevel=2
                )
                continue
            if len(labels) and (labels.min() < 0 or labels.max() >= len(classes)):
                raise ValueError(f'img_id {img_id}: labels outside [0, {len(classes)})')
            dets[img_id] = (boxes, scores, labels)
            if is_key is not None:
                key_flags[img_id] = is_key
        if self.seq_nms is not None:
            dets = self._apply_seq_nms(dets, images)
        img_ids = [i for i in images if i in dets]
        if len(img_ids) < len(images):
            warnings.warn(
                f'VIDMetric: {len(images) - len(img_ids)} of {len(images)} frames of '
                f'{self.ann_file} got no prediction and are not evaluated',
                stacklevel=2,
            )
        gt3 = {i: gts[i][:3] for i in img_ids}
        num_classes = len(classes)
        bar = 'VID mAP' if self.progress else None
        metrics: Dict[str, float] = {}
        mean_ap, aps = eval_vid_map(dets, gt3, num_classes, self.iou_thr, None, img_ids, bar)
        metrics['mAP'] = mean_ap
        if self.motion_breakdown:
            frames = [
                (images[i].get('video_id', -i), images[i].get('frame_id', 0), gts[i][0], gts[i][3])
                for i in img_ids
            ]
            mious = motion_ious(frames, self.motion_window)
            cats = {
                i: motion_category(mious[(images[i].get('video_id', -i),
                                          images[i].get('frame_id', 0))])
                for i in img_ids
            }  # fmt: skip
            for name in MOTION_RANGES:
                care = {i: cats[i] == name for i in img_ids}
                bar = f'VID mAP ({name})' if self.progress else None
                metrics[f'mAP_{name}'] = eval_vid_map(
                    dets, gt3, num_classes, self.iou_thr, care, img_ids, bar
                )[0]
        # frame subsets by a per-frame flag: (name, img_id -> flag, flag value of the subset)
        subsets = []
        if any('is_degraded' in images[i] for i in img_ids):
            degraded = {i: bool(images[i].get('is_degraded')) for i in img_ids}
            subsets += [('degraded', degraded, True), ('clean', degraded, False)]
        if key_flags:
            subsets += [('key_frames', key_flags, True), ('non_key_frames', key_flags, False)]
        for name, flags, value in subsets:
            subset = [i for i in img_ids if flags.get(i) is value]
            bar = f'VID mAP ({name})' if self.progress else None
            metrics[f'mAP_{name}'] = eval_vid_map(
                dets, gt3, num_classes, self.iou_thr, None, subset, bar
            )[0]
        if self.classwise:
            for name, ap in zip(classes, aps):
                metrics[f'AP_{name}'] = ap
        logger.info(
            'VID evaluation: '
            + ', '.join(f'{k}={v:.4f}' for k, v in metrics.items() if not k.startswith('AP_'))
        )
        return metrics

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
            f'classwise={self.classwise}, seq_nms={self.seq_nms})'
        )

"""ImageNet VID detection evaluation (numpy only).

Follows the ILSVRC2015 VID devkit (``eval_vid_detection.m``):

- per class, detections of all frames are sorted by score (descending, stable);
- a ground-truth box of width ``w`` and height ``h`` is matched at IoU
  ``>= min(iou_thr, w h / ((w + 10)(h + 10)))`` (the small-object threshold);
- a detection is matched to the **unmatched** ground truth of its frame and class with
  the highest IoU above that threshold (a ground truth is matched at most once); unmatched
  detections are false positives;
- AP is the area under the precision envelope (``VOCap``: precision made monotone from
  the right, summed over recall steps);
- mAP is the mean over the classes that have ground truth.

Differences, by design: boxes are continuous ``xyxy`` (COCO convention, no ``+1`` pixel);
ground truth flagged ``ignore`` (``iscrowd`` boxes, or boxes outside the evaluated
subset below) does not count as a positive, and a detection that matches no counted
ground truth but overlaps an ignored one (at its threshold) is neither TP nor FP.

FGFA's motion breakdown: the motion IoU of a ground-truth box is the mean IoU with the
boxes of the same instance in the frames within ``±10`` of it (frames where the instance
is absent are skipped; an instance seen in no other frame counts as static, motion IoU 1).
Ground truth is ``slow`` for motion IoU > 0.9, ``medium`` for [0.7, 0.9], ``fast`` for
< 0.7; each category is evaluated with the boxes of the other two ignored.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Dict, Iterable, List, Sequence, Tuple

import numpy as np

MOTION_RANGES = {'slow': (0.9, np.inf), 'medium': (0.7, 0.9), 'fast': (-np.inf, 0.7)}


def box_iou(boxes1: np.ndarray, boxes2: np.ndarray) -> np.ndarray:
    """IoU matrix of ``(N, 4)`` and ``(M, 4)`` xyxy boxes -> ``(N, M)``."""
    boxes1 = np.asarray(boxes1, dtype=np.float64).reshape(-1, 4)
    boxes2 = np.asarray(boxes2, dtype=np.float64).reshape(-1, 4)
    lt = np.maximum(boxes1[:, None, :2], boxes2[None, :, :2])
    rb = np.minimum(boxes1[:, None, 2:], boxes2[None, :, 2:])
    wh = np.clip(rb - lt, 0, None)
    inter = wh[..., 0] * wh[..., 1]
    area1 = (boxes1[:, 2] - boxes1[:, 0]) * (boxes1[:, 3] - boxes1[:, 1])
    area2 = (boxes2[:, 2] - boxes2[:, 0]) * (boxes2[:, 3] - boxes2[:, 1])
    union = area1[:, None] + area2[None, :] - inter
    return np.where(union > 0, inter / np.maximum(union, 1e-12), 0.0)


def small_object_thr(gt_boxes: np.ndarray, iou_thr: float = 0.5) -> np.ndarray:
    """Per-box IoU threshold ``min(iou_thr, w h / ((w + 10)(h + 10)))`` -> ``(M,)``."""
    gt_boxes = np.asarray(gt_boxes, dtype=np.float64).reshape(-1, 4)
    w = gt_boxes[:, 2] - gt_boxes[:, 0]
    h = gt_boxes[:, 3] - gt_boxes[:, 1]
    return np.minimum(iou_thr, (w * h) / ((w + 10.0) * (h + 10.0)))


def match_frame(
    det_boxes: np.ndarray,
    gt_boxes: np.ndarray,
    gt_ignore: np.ndarray,
    iou_thr: float = 0.5,
) -> np.ndarray:
    """Greedy devkit matching of one frame and class.

    Args:
        det_boxes (np.ndarray): ``(N, 4)`` detections, already sorted by score desc.
        gt_boxes (np.ndarray): ``(M, 4)`` ground truth.
        gt_ignore (np.ndarray): ``(M,)`` bool, ground truth that does not count.
        iou_thr (float): Base IoU threshold.

    Returns:
        np.ndarray: ``(N,)`` int8, 1 = true positive, 0 = false positive, -1 = ignored.
    """
    num_det = len(det_boxes)
    result = np.zeros(num_det, np.int8)
    if num_det == 0 or len(gt_boxes) == 0:
        return result
    ious = box_iou(det_boxes, gt_boxes)
    passes = ious >= small_object_thr(gt_boxes, iou_thr)[None, :]
    gt_ignore = np.asarray(gt_ignore, bool)
    counted = np.flatnonzero(~gt_ignore)
    unmatched = np.ones(len(gt_boxes), bool)
    unmatched[gt_ignore] = False
    for j in range(num_det):
        if not unmatched.any():
            break
        cand = counted[unmatched[counted] & passes[j, counted]]
        if len(cand):
            best = cand[np.argmax(ious[j, cand])]
            unmatched[best] = False
            result[j] = 1
    rest = result == 0
    if gt_ignore.any():
        hits_ignored = passes[:, gt_ignore].any(axis=1)
        result[rest & hits_ignored] = -1
    return result


def average_precision(tp: np.ndarray, fp: np.ndarray, num_pos: int) -> float:
    """VOC/ILSVRC all-point AP from score-sorted TP/FP flags (``nan`` if ``num_pos == 0``)."""
    if num_pos == 0:
        return float('nan')
    tp_cum = np.cumsum(tp, dtype=np.float64)
    fp_cum = np.cumsum(fp, dtype=np.float64)
    recall = tp_cum / num_pos
    precision = tp_cum / np.maximum(tp_cum + fp_cum, np.finfo(np.float64).eps)
    mrec = np.concatenate(([0.0], recall, [1.0]))
    mpre = np.concatenate(([0.0], precision, [0.0]))
    mpre = np.maximum.accumulate(mpre[::-1])[::-1]
    steps = np.flatnonzero(mrec[1:] != mrec[:-1]) + 1
    return float(np.sum((mrec[steps] - mrec[steps - 1]) * mpre[steps]))


def motion_ious(
    frames: Sequence[Tuple[int, int, np.ndarray, np.ndarray]], window: int = 10
) -> Dict[Tuple[int, int], np.ndarray]:
    """Motion IoU of every ground-truth box (FGFA).

    Args:
        frames: ``(video_id, frame_id, boxes (M, 4), instance_ids (M,))`` per frame.
        window (int): Neighbourhood half-width in frames. Defaults to 10.

    Returns:
        dict: ``(video_id, frame_id) -> (M,)`` motion IoU, aligned with the frame's boxes.
    """
    tracks: Dict[Tuple[int, int], Dict[int, np.ndarray]] = defaultdict(dict)
    for video_id, frame_id, boxes, inst_ids in frames:
        for box, inst in zip(np.asarray(boxes).reshape(-1, 4), np.asarray(inst_ids)):
            tracks[(video_id, int(inst))][int(frame_id)] = box
    out = {}
    for video_id, frame_id, boxes, inst_ids in frames:
        boxes = np.asarray(boxes).reshape(-1, 4)
        values = np.ones(len(boxes))
        for k, (box, inst) in enumerate(zip(boxes, np.asarray(inst_ids))):
            track = tracks[(video_id, int(inst))]
            near = [
                track[f]
                for f in range(frame_id - window, frame_id + window + 1)
                if f != frame_id and f in track
            ]
            if near:
                values[k] = box_iou(box[None], np.stack(near))[0].mean()
        out[(video_id, frame_id)] = values
    return out


def motion_category(miou: np.ndarray) -> np.ndarray:
    """``'slow'`` / ``'medium'`` / ``'fast'`` for each motion IoU value."""
    miou = np.asarray(miou, dtype=np.float64)
    out = np.full(miou.shape, 'medium', dtype=object)
    out[miou > 0.9] = 'slow'
    out[miou < 0.7] = 'fast'
    return out


def eval_vid_map(
    det_results: Dict[int, Tuple[np.ndarray, np.ndarray, np.ndarray]],
    gt_annos: Dict[int, Tuple[np.ndarray, np.ndarray, np.ndarray]],
    num_classes: int,
    iou_thr: float = 0.5,
    gt_care: Dict[int, np.ndarray] | None = None,
    img_ids: Iterable[int] | None = None,
    progress: str | None = None,
) -> Tuple[float, List[float]]:
    """Per-class AP and mAP over a set of frames.

    Args:
        det_results (dict): ``img_id -> (boxes (N, 4) xyxy, scores (N,), labels (N,))``.
        gt_annos (dict): ``img_id -> (boxes (M, 4) xyxy, labels (M,), ignore (M,) bool)``.
        num_classes (int): Number of classes (labels are ``0..num_classes-1``).
        iou_thr (float): Base IoU threshold. Defaults to 0.5.
        gt_care (dict, optional): ``img_id -> (M,) bool``; ground truth with ``False`` is
            ignored (the motion breakdown).
        img_ids (Iterable[int], optional): The frames to evaluate (default: all frames of
            ``gt_annos``); detections on other frames are dropped.
        progress (str, optional): tqdm description; ``None`` disables the bar.

    Returns:
        tuple[float, list[float]]: mAP (``nan`` if no class has ground truth) and the
        per-class APs (``nan`` for classes without ground truth).
    """
    img_ids = list(gt_annos if img_ids is None else img_ids)
    num_pos = np.zeros(num_classes, np.int64)
    chunks = []  # per frame: (scores, labels, flags); flags 1 TP, 0 FP, -1 ignored
    iterator = img_ids
    if progress:
        from tqdm import tqdm

        iterator = tqdm(img_ids, desc=progress, unit='frame', leave=False)
    for img_id in iterator:
        gt_boxes, gt_labels, gt_ignore = gt_annos[img_id]
        gt_labels = np.asarray(gt_labels, np.int64)
        gt_ignore = np.asarray(gt_ignore, bool).copy()
        if gt_care is not None:
            gt_ignore |= ~np.asarray(gt_care[img_id], bool)
        np.add.at(num_pos, gt_labels[~gt_ignore], 1)
        if img_id not in det_results:
            continue
        det_boxes, det_scores, det_labels = det_results[img_id]
        det_labels = np.asarray(det_labels, np.int64)
        flags = np.zeros(len(det_labels), np.int8)  # no GT of the class: false positive
        for cls in np.unique(gt_labels):  # match only where the frame has GT of the class
            idx = np.flatnonzero(det_labels == cls)
            if not len(idx):
                continue
            idx = idx[np.argsort(-det_scores[idx], kind='stable')]
            gmask = gt_labels == cls
            flags[idx] = match_frame(det_boxes[idx], gt_boxes[gmask], gt_ignore[gmask], iou_thr)
        chunks.append((np.asarray(det_scores, np.float64), det_labels, flags))
    if chunks:
        scores = np.concatenate([c[0] for c in chunks])
        labels = np.concatenate([c[1] for c in chunks])
        flags = np.concatenate([c[2] for c in chunks])
    else:
        scores, labels, flags = np.zeros(0), np.zeros(0, np.int64), np.zeros(0, np.int8)
    by_class = np.argsort(labels, kind='stable')  # keeps the frame order within a class
    bounds = np.searchsorted(labels[by_class], np.arange(num_classes + 1))
    aps = []
    for cls in range(num_classes):
        sel = by_class[bounds[cls] : bounds[cls + 1]]
        cls_flags = flags[sel][np.argsort(-scores[sel], kind='stable')]
        cls_flags = cls_flags[cls_flags >= 0]
        aps.append(average_precision(cls_flags == 1, cls_flags == 0, int(num_pos[cls])))
    valid = [ap for ap in aps if not np.isnan(ap)]
    mean_ap = float(np.mean(valid)) if valid else float('nan')
    return mean_ap, aps

"""ImageNet VID detection AP, the ILSVRC devkit's rules as FGFA's evaluation implements them.

The rules (``imagenet_vid_eval.py`` / ``imagenet_vid_eval_motion.py`` of FGFA's release,
which follow the devkit's ``eval_vid_detection.m``):

- Every frame of the evaluated set counts: a frame that received no detection has all
  its ground truth missed.
- Overlap is the IoU in the file's box convention (:func:`.boxes.box_iou`; ILSVRC boxes
  are inclusive pixel indices, so widths are ``x2 - x1 + 1``). A ground-truth box of
  width ``w`` and height ``h`` is hit at IoU ``>= min(0.5, w h / ((w + 10)(h + 10)))``
  (:func:`.boxes.small_object_thr`).
- Matching (:func:`match_frame`), frame by frame: detections in descending score order;
  each takes, among the ground-truth boxes of its class not taken yet whose threshold it
  reaches, the one with the highest IoU (the first in file order on ties).
- Scoring against a set of *cared-for* ground truth (:func:`score_frame`; in FGFA's
  motion breakdown the boxes of the other motion categories are not cared for):
  a detection that took a cared-for box is a true positive; one that took an ignored box
  uses it up and is neither (it is absorbed). A detection that took nothing is a false
  positive with a weight: let ``a`` / ``b`` be its highest IoU with any cared-for /
  ignored box of the frame, of any class (-1 if there is none): weight 1 if ``a > b``,
  0 if ``b > a``; on a tie, the share of ignored boxes among the frame's boxes, or, in a
  frame without ground truth, the *empty-frame weight* (1 for the overall AP; for a
  motion category, the share of motion IoUs in its range,
  :func:`.motion.empty_frame_weight`).
- AP per class (:func:`average_precision`): all detections of the class sorted by score,
  cumulative TP and (weighted) FP, precision made monotone from the right and summed over
  the recall steps (VOC's all-point AP). The positives are the cared-for ground-truth
  boxes of the class. mAP is the mean over the classes that have positives.

With every box cared for (the overall AP), the weights reduce to the plain devkit: every
unmatched detection is a false positive of weight 1. Ties in score are broken by frame
order, then by the order of the detections within a frame (FGFA's ``np.argsort`` leaves
that order unspecified). Ground truth flagged ``iscrowd`` (not in ILSVRC) is never cared
for, in every category.
"""

from __future__ import annotations

from typing import Dict, Iterable, List, Mapping, Tuple

import numpy as np

from .boxes import DEFAULT_BOX_CONVENTION, box_iou, small_object_thr

#: ``img_id -> (boxes (N, 4) xyxy, scores (N,), labels (N,))``
Detections = Mapping[int, Tuple[np.ndarray, np.ndarray, np.ndarray]]
#: ``img_id -> (boxes (M, 4) xyxy, labels (M,), ignore (M,) bool)``
GroundTruth = Mapping[int, Tuple[np.ndarray, np.ndarray, np.ndarray]]


def match_frame(
    det_boxes: np.ndarray,
    det_labels: np.ndarray,
    gt_boxes: np.ndarray,
    gt_labels: np.ndarray,
    iou_thr: float = 0.5,
    box_convention: str = DEFAULT_BOX_CONVENTION,
) -> Tuple[np.ndarray, np.ndarray]:
    """Greedy devkit matching of one frame (all classes; a detection only takes its class).

    Args:
        det_boxes (np.ndarray): ``(N, 4)`` detections, sorted by descending score.
        det_labels (np.ndarray): ``(N,)`` their labels.
        gt_boxes (np.ndarray): ``(M, 4)`` ground truth (ignored boxes included: matching
            does not look at what is cared for).
        gt_labels (np.ndarray): ``(M,)`` their labels.
        iou_thr (float): Base IoU threshold. Defaults to 0.5.
        box_convention (str): See :mod:`.boxes`.

    Returns:
        tuple: ``matched (N,)`` int64, the ground-truth index each detection took or -1,
        and ``ious (N, M)``, the IoU of every detection with every box (any class).
    """
    ious = box_iou(det_boxes, gt_boxes, box_convention)
    num_det, num_gt = ious.shape
    matched = np.full(num_det, -1, np.int64)
    if num_det == 0 or num_gt == 0:
        return matched, ious
    thr = small_object_thr(gt_boxes, iou_thr, box_convention)
    same = np.asarray(det_labels)[:, None] == np.asarray(gt_labels)[None, :]
    passes = same & (ious >= thr[None, :]) & (ious > 0)
    free = np.ones(num_gt, bool)
    for j in np.flatnonzero(passes.any(axis=1)):  # detections that can take anything
        cand = np.flatnonzero(passes[j] & free)
        if len(cand):
            best = cand[np.argmax(ious[j, cand])]  # argmax: the first of equal IoUs
            matched[j] = best
            free[best] = False
            if not free.any():
                break
    return matched, ious


def score_frame(
    matched: np.ndarray, ious: np.ndarray, gt_care: np.ndarray, empty_weight: float = 1.0
) -> Tuple[np.ndarray, np.ndarray]:
    """True-positive flags and false-positive weights of one frame's detections.

    Args:
        matched (np.ndarray): ``(N,)`` from :func:`match_frame`.
        ious (np.ndarray): ``(N, M)`` from :func:`match_frame`.
        gt_care (np.ndarray): ``(M,)`` bool, the ground truth that counts.
        empty_weight (float): FP weight of a detection in a frame without ground truth.

    Returns:
        tuple: ``tp (N,)`` float64 in {0, 1} and ``fp (N,)`` float64 in [0, 1].
    """
    gt_care = np.asarray(gt_care, bool)
    num_det, num_gt = ious.shape
    hit = matched >= 0
    tp = np.zeros(num_det)
    tp[hit] = gt_care[matched[hit]]
    fp = np.zeros(num_det)
    if num_gt == 0:
        fp[~hit] = empty_weight
        return tp, fp
    ignored = ~gt_care
    best_ignored = ious[:, ignored].max(axis=1) if ignored.any() else np.full(num_det, -1.0)
    best_cared = ious[:, gt_care].max(axis=1) if gt_care.any() else np.full(num_det, -1.0)
    weight = np.where(
        best_cared > best_ignored, 1.0, np.where(best_ignored > best_cared, 0.0, ignored.mean())
    )
    fp[~hit] = weight[~hit]
    return tp, fp


def average_precision(tp: np.ndarray, fp: np.ndarray, num_pos: int) -> float:
    """VOC/ILSVRC all-point AP from score-sorted TP flags and FP weights.

    Returns ``nan`` when ``num_pos == 0`` (the class has no positives: left out of mAP).
    """
    if num_pos <= 0:
        return float('nan')
    tp_cum = np.cumsum(tp, dtype=np.float64)
    fp_cum = np.cumsum(fp, dtype=np.float64)
    recall = tp_cum / float(num_pos)
    precision = tp_cum / np.maximum(tp_cum + fp_cum, np.finfo(np.float64).eps)
    mrec = np.concatenate(([0.0], recall, [1.0]))
    mpre = np.concatenate(([0.0], precision, [0.0]))
    mpre = np.maximum.accumulate(mpre[::-1])[::-1]
    steps = np.flatnonzero(mrec[1:] != mrec[:-1])
    return float(np.sum((mrec[steps + 1] - mrec[steps]) * mpre[steps + 1]))


def _class_aps(
    scores: np.ndarray, labels: np.ndarray, tp: np.ndarray, fp: np.ndarray, num_pos: np.ndarray
) -> List[float]:
    """AP of every class from all detections (in frame order) of one evaluation."""
    order = np.lexsort((-scores, labels))  # by class, then score; stable: frame order on ties
    bounds = np.searchsorted(labels[order], np.arange(len(num_pos) + 1))
    aps = []
    for cls, count in enumerate(num_pos):
        sel = order[bounds[cls] : bounds[cls + 1]]
        aps.append(average_precision(tp[sel], fp[sel], int(count)))
    return aps


def _mean(aps: List[float]) -> float:
    valid = [ap for ap in aps if not np.isnan(ap)]
    return float(np.mean(valid)) if valid else float('nan')


def eval_vid_map(
    det_results: Detections,
    gt_annos: GroundTruth,
    num_classes: int,
    iou_thr: float = 0.5,
    box_convention: str = DEFAULT_BOX_CONVENTION,
    categories: Mapping[str, Tuple[Mapping[int, np.ndarray] | None, float]] | None = None,
    frame_subsets: Mapping[str, Iterable[int]] | None = None,
    img_ids: Iterable[int] | None = None,
    progress: str | None = None,
) -> Dict[str, Tuple[float, List[float]]]:
    """Per-class AP and mAP over a set of frames, for several views in one pass.

    Args:
        det_results (dict): ``img_id -> (boxes (N, 4) xyxy, scores (N,), labels (N,))``;
            frames without an entry received no detection.
        gt_annos (dict): ``img_id -> (boxes (M, 4) xyxy, labels (M,), ignore (M,) bool)``;
            ``ignore`` boxes (crowd) are never cared for.
        num_classes (int): Number of classes (labels are ``0..num_classes-1``).
        iou_thr (float): Base IoU threshold. Defaults to 0.5.
        box_convention (str): ``'continuous'`` or ``'inclusive_pixels'`` (see
            :mod:`.boxes`), for detections and ground truth alike.
        categories (dict, optional): ``name -> (gt_care, empty_weight)``: ``gt_care`` maps
            ``img_id -> (M,)`` bool (None: every box), ``empty_weight`` is the FP weight
            in frames without ground truth. Defaults to ``{'all': (None, 1.0)}``.
        frame_subsets (dict, optional): ``name -> img_ids``: the ``'all'`` category (which
            must be present) on a subset of the frames.
        img_ids (Iterable[int], optional): The evaluated frames, in the order that breaks
            score ties (default: all frames of ``gt_annos``); detections on other frames
            are dropped.
        progress (str, optional): tqdm description; None disables the bar.

    Returns:
        dict: ``name -> (mAP, per-class APs)`` for every category and frame subset (mAP
        ``nan`` if no class has positives; AP ``nan`` for classes without positives).
    """
    categories = dict(categories or {'all': (None, 1.0)})
    frame_subsets = dict(frame_subsets or {})
    if frame_subsets and 'all' not in categories:
        raise ValueError("frame_subsets need the 'all' category")
    img_ids = list(gt_annos if img_ids is None else img_ids)
    num_pos = {name: np.zeros(num_classes, np.int64) for name in categories}
    # positives per frame of the 'all' category, for the frame subsets
    frame_pos = np.zeros((len(img_ids) if frame_subsets else 0, num_classes), np.int32)
    chunks = {name: [] for name in categories}  # per frame (tp, fp)
    det_chunks = []  # per frame (scores, labels), sorted by descending score
    iterator = img_ids
    if progress:
        from tqdm import tqdm

        iterator = tqdm(img_ids, desc=progress, unit='frame', leave=False)
    for n, img_id in enumerate(iterator):
        gt_boxes, gt_labels, gt_ignore = gt_annos[img_id]
        gt_labels = np.asarray(gt_labels, np.int64)
        base_care = ~np.asarray(gt_ignore, bool)
        det_boxes, det_scores, det_labels = det_results.get(
            img_id, (np.zeros((0, 4)), np.zeros(0), np.zeros(0, np.int64))
        )
        order = np.argsort(-np.asarray(det_scores, np.float64), kind='stable')
        det_boxes = np.asarray(det_boxes, np.float64).reshape(-1, 4)[order]
        det_labels = np.asarray(det_labels, np.int64)[order]
        det_chunks.append((np.asarray(det_scores, np.float64)[order], det_labels))
        matched, ious = match_frame(
            det_boxes, det_labels, gt_boxes, gt_labels, iou_thr, box_convention
        )
        for name, (gt_care, empty_weight) in categories.items():
            care = base_care if gt_care is None else base_care & np.asarray(gt_care[img_id], bool)
            chunks[name].append(score_frame(matched, ious, care, empty_weight))
            np.add.at(num_pos[name], gt_labels[care], 1)
            if frame_subsets and name == 'all':
                np.add.at(frame_pos[n], gt_labels[care], 1)

    def evaluate(name: str, frames: np.ndarray, pos: np.ndarray) -> Tuple[float, List[float]]:
        if len(frames):
            scores = np.concatenate([det_chunks[f][0] for f in frames])
            labels = np.concatenate([det_chunks[f][1] for f in frames])
            tp = np.concatenate([chunks[name][f][0] for f in frames])
            fp = np.concatenate([chunks[name][f][1] for f in frames])
        else:
            scores, labels, tp, fp = (np.zeros(0), np.zeros(0, np.int64), np.zeros(0),
                                      np.zeros(0))  # fmt: skip
        aps = _class_aps(scores, labels, tp, fp, pos)
        return _mean(aps), aps

    everything = np.arange(len(img_ids))
    results = {name: evaluate(name, everything, num_pos[name]) for name in categories}
    position = {img_id: n for n, img_id in enumerate(img_ids)}
    for name, subset in frame_subsets.items():
        frames = np.array(sorted(position[i] for i in subset if i in position), np.int64)
        results[name] = evaluate('all', frames, frame_pos[frames].sum(axis=0))
    return results

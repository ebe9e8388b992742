"""Seq-NMS: video-level rescoring and suppression of per-frame detections (numpy only).

Han et al., "Seq-NMS for Video Object Detection", 2016. The PSLA paper (Guo et al., ICCV
2019) reports its best number after this post-processing. Per class, independently:

1. a box in frame ``t`` is linked to every box of frame ``t + 1`` with IoU
   ``>= link_iou_thr``;
2. the sequence of linked boxes (over consecutive frames, starting and ending anywhere)
   with the largest sum of scores is found by dynamic programming;
3. every box of that sequence is rescored to the mean (``'avg'``) or the maximum
   (``'max'``) score of the sequence; it is final and leaves the selection;
4. in each frame of the sequence, the remaining boxes that overlap the sequence's box with
   IoU ``>= suppress_iou_thr`` are suppressed: removed from the output and from the links;
5. steps 2-4 repeat until no box is left. A box linked to nothing forms a sequence of its
   own and keeps its score.

The dynamic programme is updated incrementally: removing a sequence that spans frames
``[s, e]`` only changes the best cumulative scores from frame ``s`` on, and the update
stops at the first frame after ``e`` whose scores did not change. Boxes linked to nothing
and overlapping nothing in their frame are final from the start.
"""

from __future__ import annotations

from numbers import Real
from typing import List, Sequence, Tuple

import numpy as np

from ..functional.boxes import box_iou

FrameDets = Tuple[np.ndarray, np.ndarray, np.ndarray]

RESCORE_MODES = ('avg', 'max')


def _check_thr(name: str, value: float) -> None:
    if isinstance(value, bool) or not isinstance(value, Real) or not 0 < value <= 1:
        raise ValueError(f'{name} must be a number in (0, 1], got {value!r}')


def _check_frame(t: int, frame) -> FrameDets:
    """Validate frame ``t`` and return it as float64 / float64 / int64 arrays."""
    if not isinstance(frame, (tuple, list)) or len(frame) != 3:
        raise ValueError(f'frame {t}: expected a (boxes, scores, labels) tuple, got {frame!r}')
    boxes, scores, labels = (np.asarray(x) for x in frame)
    if boxes.size == 0:
        boxes = boxes.reshape(0, 4)
    if boxes.ndim != 2 or boxes.shape[1] != 4:
        raise ValueError(f'frame {t}: boxes must have shape (N, 4), got {boxes.shape}')
    if scores.ndim != 1 or labels.ndim != 1:
        raise ValueError(
            f'frame {t}: scores and labels must be 1-D, got {scores.shape} and {labels.shape}'
        )
    if not len(boxes) == len(scores) == len(labels):
        raise ValueError(
            f'frame {t}: {len(boxes)} boxes, {len(scores)} scores and {len(labels)} labels'
        )
    boxes = boxes.astype(np.float64)
    scores = scores.astype(np.float64)
    if not (np.isfinite(boxes).all() and np.isfinite(scores).all()):
        raise ValueError(f'frame {t}: boxes and scores must be finite')
    if labels.size and not np.issubdtype(labels.dtype, np.integer):
        if not np.issubdtype(labels.dtype, np.number) or np.any(labels != np.round(labels)):
            raise ValueError(f'frame {t}: labels must be integers, got {labels.dtype}')
    return boxes, scores, labels.astype(np.int64)


def _seq_nms_one_class(
    boxes: List[np.ndarray],
    scores: List[np.ndarray],
    link_iou_thr: float,
    suppress_iou_thr: float,
    rescore: str,
) -> List[np.ndarray]:
    """Seq-NMS over the boxes of one class.

    Args:
        boxes: Per frame, ``(n_t, 4)`` xyxy boxes.
        scores: Per frame, ``(n_t,)`` scores.
        link_iou_thr: Linking IoU threshold.
        suppress_iou_thr: Suppression IoU threshold.
        rescore: ``'avg'`` or ``'max'``.

    Returns:
        Per frame, the ``(n_t,)`` new scores; ``nan`` marks a suppressed box.
    """
    num_frames = len(boxes)
    sizes = [len(s) for s in scores]
    links = [box_iou(boxes[t], boxes[t + 1]) >= link_iou_thr for t in range(num_frames - 1)]
    alive = [np.ones(n, bool) for n in sizes]
    best = [np.full(n, -np.inf) for n in sizes]  # best cumulative score of a path ending here
    back = [np.full(n, -1, np.int64) for n in sizes]  # its box in the previous frame (or -1)
    frame_max = np.full(num_frames, -np.inf)
    frame_arg = np.zeros(num_frames, np.int64)
    new_scores = [np.full(n, np.nan) for n in sizes]

    def update(t: int) -> bool:
        """Recompute ``best[t]`` and ``back[t]``; return whether ``best[t]`` changed."""
        own = np.where(alive[t], scores[t], -np.inf)
        new_back = np.full(sizes[t], -1, np.int64)
        new_best = own
        if t > 0 and sizes[t - 1] and sizes[t]:
            cand = np.where(links[t - 1], best[t - 1][:, None], -np.inf)  # (n_{t-1}, n_t)
            prev = cand.argmax(0)
            prev_best = cand[prev, np.arange(sizes[t])]
            extend = alive[t] & (prev_best > 0)  # a path only grows if that raises its sum
            new_best = np.where(extend, own + prev_best, own)
            new_back = np.where(extend, prev, -1)
        changed = not np.array_equal(new_best, best[t])
        best[t], back[t] = new_best, new_back
        if sizes[t]:
            frame_arg[t] = new_best.argmax()
            frame_max[t] = new_best[frame_arg[t]]
        return changed

    for t in range(num_frames):
        # a box with no link and no overlap in its frame interacts with nothing: it is a
        # sequence of its own whenever it is picked, so it is final from the start
        isolated = np.ones(sizes[t], bool)
        if t > 0:
            isolated &= ~links[t - 1].any(0)
        if t < num_frames - 1:
            isolated &= ~links[t].any(1)
        overlap = box_iou(boxes[t], boxes[t]) >= suppress_iou_thr
        np.fill_diagonal(overlap, False)
        isolated &= ~overlap.any(1)
        new_scores[t][isolated] = scores[t][isolated]
        alive[t][isolated] = False
        update(t)
    while True:
        end = int(frame_max.argmax()) if num_frames else 0
        if not num_frames or frame_max[end] == -np.inf:
            break
        path, t, i = [], end, int(frame_arg[end])
        while i >= 0:
            path.append((t, i))
            i, t = int(back[t][i]), t - 1
        path.reverse()
        seq_scores = np.array([scores[t][i] for t, i in path])
        value = seq_scores.mean() if rescore == 'avg' else seq_scores.max()
        for t, i in path:
            new_scores[t][i] = value
            overlap = box_iou(boxes[t][i], boxes[t])[0] >= suppress_iou_thr
            alive[t][overlap] = False  # suppressed (their new score stays nan)
            alive[t][i] = False
        for t in range(path[0][0], num_frames):
            if not update(t) and t >= end:
                break  # frames after `end` only depend on this one
    return new_scores


def seq_nms(
    frames: Sequence[Tuple[np.ndarray, np.ndarray, np.ndarray]],
    link_iou_thr: float = 0.5,
    suppress_iou_thr: float = 0.3,
    rescore: str = 'avg',
) -> List[FrameDets]:
    """Seq-NMS over the per-frame detections of one video.

    Every class is processed independently (boxes of different classes are never linked
    nor suppress each other); see the module docstring for the algorithm.

    Args:
        frames: The video's frames in temporal order, each ``(boxes, scores, labels)``:
            ``boxes`` ``(N, 4)`` xyxy, ``scores`` ``(N,)`` (finite; usually in [0, 1]),
            ``labels`` ``(N,)`` integer class indices. ``N`` may be 0 (an empty frame; an
            empty ``boxes`` of any shape, e.g. ``(0,)``, is accepted).
        link_iou_thr: Boxes of consecutive frames are linked when their IoU is
            ``>= link_iou_thr``. In (0, 1]. Defaults to 0.5.
        suppress_iou_thr: Boxes that overlap a selected sequence's box in its frame with
            IoU ``>= suppress_iou_thr`` are removed. In (0, 1]. Defaults to 0.3.
        rescore: ``'avg'`` (mean score of the sequence) or ``'max'``. Defaults to
            ``'avg'``.

    Returns:
        list[tuple]: One ``(boxes, scores, labels)`` per input frame, in the same order
        (an empty video gives ``[]``): the boxes that were not suppressed, in their input
        order, as ``(M, 4)`` float64, ``(M,)`` float64 rescored and ``(M,)`` int64 arrays
        (``M <= N``; an empty frame gives ``(0, 4)``, ``(0,)``, ``(0,)``).

    Raises:
        ValueError: If a threshold is outside (0, 1], ``rescore`` is unknown, or a frame is
            not ``(boxes, scores, labels)`` with shapes ``(N, 4)``, ``(N,)``, ``(N,)``,
            finite values and integer labels.
    """
    _check_thr('link_iou_thr', link_iou_thr)
    _check_thr('suppress_iou_thr', suppress_iou_thr)
    if rescore not in RESCORE_MODES:
        raise ValueError(f'rescore must be one of {RESCORE_MODES}, got {rescore!r}')
    if isinstance(frames, np.ndarray) or not isinstance(frames, Sequence):
        raise ValueError(f'frames must be a sequence of frames, got {type(frames).__name__}')
    frames = [_check_frame(t, frame) for t, frame in enumerate(frames)]
    if not frames:
        return []
    new_scores = [np.full(len(scores), np.nan) for _, scores, _ in frames]
    all_labels = np.concatenate([labels for _, _, labels in frames])
    for label in np.unique(all_labels):
        inds = [np.flatnonzero(labels == label) for _, _, labels in frames]
        class_scores = _seq_nms_one_class(
            [boxes[i] for (boxes, _, _), i in zip(frames, inds)],
            [scores[i] for (_, scores, _), i in zip(frames, inds)],
            link_iou_thr,
            suppress_iou_thr,
            rescore,
        )
        for t, i in enumerate(inds):
            new_scores[t][i] = class_scores[t]
    out = []
    for (boxes, _, labels), scores in zip(frames, new_scores):
        keep = ~np.isnan(scores)
        out.append((boxes[keep], scores[keep], labels[keep]))
    return out

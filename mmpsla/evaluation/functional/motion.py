"""FGFA's motion IoU and its slow / medium / fast categories (numpy only).

Zhu et al., "Flow-Guided Feature Aggregation for Video Object Detection" (ICCV 2017),
§5: a ground-truth box's *motion IoU* is the mean IoU with the boxes of the same instance
in the nearby frames (``±10``). FGFA's evaluation (``imagenet_vid_eval_motion.py``) then
scores each category with the ground truth of the other categories ignored; the ranges
are closed at both ends, so a box with motion IoU exactly 0.7 or 0.9 belongs to two
categories.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Dict, Hashable, Sequence, Tuple

import numpy as np

from .boxes import DEFAULT_BOX_CONVENTION, paired_box_iou

#: FGFA's motion categories: closed ranges of motion IoU.
MOTION_RANGES: Dict[str, Tuple[float, float]] = {
    'slow': (0.9, 1.0),
    'medium': (0.7, 0.9),
    'fast': (0.0, 0.7),
}


def motion_ious(
    frames: Sequence[Tuple[Hashable, int, np.ndarray, np.ndarray]],
    window: int = 10,
    box_convention: str = DEFAULT_BOX_CONVENTION,
) -> Dict[Tuple[Hashable, int], np.ndarray]:
    """Motion IoU of every ground-truth box.

    The motion IoU of the box of instance ``i`` in frame ``f`` is the mean IoU (in the
    file's box convention) with the boxes of ``i`` in the frames ``f - window .. f +
    window`` other than ``f`` in which ``i`` appears. An instance that appears in no
    other frame of its window is counted as static (motion IoU 1).

    Args:
        frames: ``(video_id, frame_id, boxes (M, 4) xyxy, instance_ids (M,))`` per frame;
            instance ids are matched within a video.
        window (int): Neighbourhood half-width in frames. Defaults to 10.
        box_convention (str): See :mod:`.boxes`.

    Returns:
        dict: ``(video_id, frame_id) -> (M,)`` motion IoU, aligned with the frame's boxes.
    """
    keys, offsets, all_boxes = [], [0], []
    tracks = defaultdict(list)  # (video, instance) -> [(frame_id, global box index)]
    for video_id, frame_id, boxes, inst_ids in frames:
        boxes = np.asarray(boxes, np.float64).reshape(-1, 4)
        for k, inst in enumerate(np.asarray(inst_ids).reshape(-1)):
            tracks[(video_id, int(inst))].append((int(frame_id), offsets[-1] + k))
        keys.append((video_id, int(frame_id)))
        offsets.append(offsets[-1] + len(boxes))
        all_boxes.append(boxes)
    all_boxes = np.concatenate(all_boxes) if all_boxes else np.zeros((0, 4))
    sums, counts = np.zeros(len(all_boxes)), np.zeros(len(all_boxes))
    for members in tracks.values():
        members.sort()
        fids = np.array([f for f, _ in members])
        index = np.array([i for _, i in members])
        for step in range(1, window + 1):
            later = np.searchsorted(fids, fids + step)  # the member `step` frames later
            ok = later < len(fids)
            ok[ok] = fids[later[ok]] == fids[ok] + step
            first, second = index[ok], index[later[ok]]
            ious = paired_box_iou(all_boxes[first], all_boxes[second], box_convention)
            np.add.at(sums, first, ious)
            np.add.at(sums, second, ious)
            np.add.at(counts, first, 1)
            np.add.at(counts, second, 1)
    values = np.where(counts > 0, sums / np.maximum(counts, 1), 1.0)
    return {key: values[offsets[n] : offsets[n + 1]] for n, key in enumerate(keys)}


def in_motion_range(miou: np.ndarray, motion_range: Tuple[float, float]) -> np.ndarray:
    """Whether each motion IoU lies in the closed range ``[low, high]`` -> bool array."""
    low, high = motion_range
    miou = np.asarray(miou, dtype=np.float64)
    return (miou >= low) & (miou <= high)


def empty_frame_weight(
    all_mious: np.ndarray, num_empty_frames: int, motion_range: Tuple[float, float]
) -> float:
    """FGFA's false-positive weight of a detection in a frame without ground truth.

    It is the share of motion IoUs in ``motion_range`` among all the ground-truth boxes
    of the evaluated frames. FGFA reads its motion IoUs from a precomputed file in which
    each frame without an object holds one empty entry, read as motion IoU 0; those
    entries take part in the share, so each such frame counts once, as motion IoU 0.

    Args:
        all_mious (np.ndarray): ``(K,)`` motion IoUs of every ground-truth box.
        num_empty_frames (int): Frames without any ground-truth box.
        motion_range (tuple): Closed ``(low, high)``.

    Returns:
        float: The weight in [0, 1] (1.0 if there is neither a box nor a frame).
    """
    all_mious = np.asarray(all_mious, np.float64).reshape(-1)
    values = np.concatenate([all_mious, np.zeros(num_empty_frames)])
    if not len(values):
        return 1.0
    return float(in_motion_range(values, motion_range).sum() / float(len(values)))

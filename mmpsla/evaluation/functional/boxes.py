"""Box overlap under the two box conventions of CocoVID files (numpy only).

A CocoVID ``bbox`` ``[x, y, w, h]`` becomes the corners ``[x, y, x + w, y + h]``. What the
corners mean depends on where the file came from, and the converters record it in the
JSON's top-level ``box_convention`` field:

- ``'inclusive_pixels'``: the corners are the first and last pixel *indices* the box
  covers, as in ILSVRC XML files (our ImageNet VID/DET converters copy them unchanged,
  like mmtrack's). A box covers ``x2 - x1 + 1`` pixels across, so widths, areas and
  intersections carry a ``+1``: this is the overlap of the ILSVRC devkit and of FGFA's
  ``imagenet_vid_eval*.py``. A box with ``x1 == x2`` is one pixel wide.
- ``'continuous'``: the corners are the box's edges (COCO's convention: the width is
  ``x2 - x1``). The toy set and the custom converter write this, and it is the default of
  files that do not say (:data:`DEFAULT_BOX_CONVENTION`).

Detections are read in the convention of the ground truth they are evaluated against: a
model trained on a file predicts boxes in that file's convention.
"""

from __future__ import annotations

import numpy as np

#: The box conventions a CocoVID file can declare in its ``box_convention`` field.
BOX_CONVENTIONS = ('continuous', 'inclusive_pixels')

#: The convention of files without a ``box_convention`` field (the toy set, custom data).
DEFAULT_BOX_CONVENTION = 'continuous'


def check_box_convention(box_convention: str) -> str:
    """Return ``box_convention`` if it is one of :data:`BOX_CONVENTIONS`, else raise."""
    if box_convention not in BOX_CONVENTIONS:
        raise ValueError(f'box_convention must be one of {BOX_CONVENTIONS}, got {box_convention!r}')
    return box_convention


def _extent(box_convention: str) -> float:
    """What is added to ``x2 - x1`` to get a width: 1 for pixel indices, 0 for edges."""
    return 1.0 if check_box_convention(box_convention) == 'inclusive_pixels' else 0.0


def box_iou(
    boxes1: np.ndarray, boxes2: np.ndarray, box_convention: str = DEFAULT_BOX_CONVENTION
) -> np.ndarray:
    """IoU matrix of ``(N, 4)`` and ``(M, 4)`` xyxy boxes -> ``(N, M)`` float64.

    Boxes that do not overlap (intersection width or height ``<= 0``) have IoU 0. With
    ``'inclusive_pixels'`` this is the devkit's ``iw = min(x2) - max(x1) + 1``,
    ``ua = (w1 + 1)(h1 + 1) + (w2 + 1)(h2 + 1) - iw ih``, ``IoU = iw ih / ua``.
    """
    boxes1 = np.asarray(boxes1, dtype=np.float64).reshape(-1, 4)
    boxes2 = np.asarray(boxes2, dtype=np.float64).reshape(-1, 4)
    return paired_box_iou(boxes1[:, None, :], boxes2[None, :, :], box_convention)


def paired_box_iou(
    boxes1: np.ndarray, boxes2: np.ndarray, box_convention: str = DEFAULT_BOX_CONVENTION
) -> np.ndarray:
    """Element-wise IoU of broadcastable ``(..., 4)`` xyxy boxes -> ``(...)`` float64."""
    extent = _extent(box_convention)
    boxes1 = np.asarray(boxes1, dtype=np.float64)
    boxes2 = np.asarray(boxes2, dtype=np.float64)
    iw = np.minimum(boxes1[..., 2], boxes2[..., 2]) - np.maximum(boxes1[..., 0], boxes2[..., 0])
    ih = np.minimum(boxes1[..., 3], boxes2[..., 3]) - np.maximum(boxes1[..., 1], boxes2[..., 1])
    iw, ih = iw + extent, ih + extent
    overlaps = (iw > 0) & (ih > 0)
    inter = np.where(overlaps, iw * ih, 0.0)
    area1 = (boxes1[..., 2] - boxes1[..., 0] + extent) * (boxes1[..., 3] - boxes1[..., 1] + extent)
    area2 = (boxes2[..., 2] - boxes2[..., 0] + extent) * (boxes2[..., 3] - boxes2[..., 1] + extent)
    union = area1 + area2 - inter
    with np.errstate(divide='ignore', invalid='ignore'):
        return np.where(overlaps, inter / np.where(overlaps, union, 1.0), 0.0)


def small_object_thr(
    gt_boxes: np.ndarray,
    iou_thr: float = 0.5,
    box_convention: str = DEFAULT_BOX_CONVENTION,
    pixel_tolerance: float = 10.0,
) -> np.ndarray:
    """The devkit's per-box IoU threshold ``min(iou_thr, w h / ((w + t)(h + t)))`` -> ``(M,)``.

    ``w``, ``h`` are the box's width and height in the given convention (``+1`` for pixel
    indices) and ``t`` the pixel tolerance (10 in the devkit): a small box may be hit with
    less overlap, since a few pixels of error already cost it a lot of IoU.
    """
    extent = _extent(box_convention)
    gt_boxes = np.asarray(gt_boxes, dtype=np.float64).reshape(-1, 4)
    w = gt_boxes[:, 2] - gt_boxes[:, 0] + extent
    h = gt_boxes[:, 3] - gt_boxes[:, 1] + extent
    return np.minimum(iou_thr, (w * h) / ((w + pixel_tolerance) * (h + pixel_tolerance)))

"""Non-maximum suppression with a compiled CPU kernel; on CUDA, mmcv's kernel.

:func:`nms` returns exactly what ``mmcv.ops.nms(boxes, scores, iou_threshold, offset,
score_threshold, max_num)`` returns for tensors (semantics in ``ops/csrc/nms.h``; mmcv stays
the reference it is tested against). Why a kernel of our own: mmcv's CPU kernel walks every
later box through the sort order with a branch per box, and its Python wrapper inspects its
own signature on every call (``deprecated_api_warning``). Measured on the toy head's RPN
(300 boxes, ``python benchmarks/bench_nms.py``): see the figures printed there and in the
README. The detectors' configs select it with ``nms=dict(type='mmpsla.ops.nms', ...)``
(:func:`mmpsla.models.nms_config.resolve_nms_ops` turns the name into this function, which mmcv's
``batched_nms`` then calls).

CUDA tensors go to ``mmcv.ops.nms``; CPU tensors need the extension, with the PSLA op's
loud-fallback rule (:func:`mmpsla.ops.psla_op._use_ext`: a missing or stale extension
raises unless ``MMPSLA_ALLOW_REFERENCE_OP=1``, which falls back to mmcv's kernel). NMS has
no gradient and a data-dependent output size, so it is a plain call, not a torch custom op.
"""

from typing import Tuple

import torch
from torch import Tensor

from . import psla_op
from .validation import shape_or_type

__all__ = ['nms']


def _check_inputs(boxes, scores, iou_threshold, offset) -> None:
    """Raises ValueError naming the argument for malformed inputs."""
    if not isinstance(boxes, Tensor) or boxes.dim() != 2 or boxes.size(1) != 4:
        shape = shape_or_type(boxes)
        raise ValueError(f'boxes must be a (N, 4) tensor (x1, y1, x2, y2), got {shape}')
    if not isinstance(scores, Tensor) or scores.shape != boxes.shape[:1]:
        shape = shape_or_type(scores)
        raise ValueError(f'scores must be a ({boxes.size(0)},) tensor, got {shape}')
    if scores.device != boxes.device:
        raise ValueError(f'scores must be on {boxes.device}, got {scores.device}')
    if boxes.device.type == 'cpu' and boxes.dtype not in (torch.float32, torch.float64):
        raise ValueError(f'boxes must be float32 or float64 on the CPU, got {boxes.dtype}')
    if offset not in (0, 1):
        raise ValueError(f'offset must be 0 or 1, got {offset!r}')
    if not 0 <= float(iou_threshold) <= 1:
        raise ValueError(f'iou_threshold must lie in [0, 1], got {iou_threshold!r}')


def nms(
    boxes: Tensor,
    scores: Tensor,
    iou_threshold: float,
    offset: int = 0,
    score_threshold: float = 0,
    max_num: int = -1,
) -> Tuple[Tensor, Tensor]:
    """Greedy NMS: ``mmcv.ops.nms`` for tensors.

    Args:
        boxes (Tensor): (N, 4) ``(x1, y1, x2, y2)``, float32 or float64 on the CPU.
        scores (Tensor): (N,).
        iou_threshold (float): A box is removed when its IoU with a kept, higher-scoring
            box is greater than this.
        offset (int): 0, or 1 for boxes whose width is ``x2 - x1 + 1``.
        score_threshold (float): Boxes scoring at most this are dropped first (when > 0).
        max_num (int): Keep at most this many (when > 0).

    Returns:
        tuple: ``dets`` (K, 5) ``(x1, y1, x2, y2, score)`` and ``keep`` (K,) int64 indices
        into the inputs, highest score first.
    """
    _check_inputs(boxes, scores, iou_threshold, offset)
    if not (boxes.device.type == 'cpu' and psla_op._use_ext(boxes)):
        from mmcv.ops import nms as mmcv_nms

        return mmcv_nms(boxes, scores, iou_threshold, offset, score_threshold, max_num)
    scores = scores.to(boxes.dtype)
    candidates = None  # indices of the boxes scoring above score_threshold, when it is > 0
    if score_threshold > 0:
        candidates = torch.nonzero(scores > score_threshold).squeeze(1)
    pool = (boxes, scores) if candidates is None else (boxes[candidates], scores[candidates])
    keep = psla_op._ext.nms(*pool, float(iou_threshold), offset)
    if max_num > 0:
        keep = keep[:max_num]
    if candidates is not None:
        keep = candidates[keep]
    return torch.cat((boxes[keep], scores[keep, None]), dim=1), keep

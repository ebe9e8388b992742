"""The current frame's prediction in a test sample, for the VID metrics."""

from __future__ import annotations

from typing import Any, Tuple

import numpy as np


def field(obj: Any, key: str, default: Any = None) -> Any:
    """``obj[key]`` for dicts, ``obj.key`` for data elements."""
    if isinstance(obj, dict):
        return obj.get(key, default)
    return getattr(obj, key, default)


def to_numpy(value: Any, dtype=None) -> np.ndarray:
    """A tensor or array-like as a numpy array."""
    if hasattr(value, 'detach'):
        value = value.detach().cpu().numpy()
    return np.asarray(value, dtype=dtype)


def current_frame(sample: Any) -> Any:
    """The frame a test sample was run for.

    A ``TrackDataSample`` (or its ``to_dict()``) holds the frames of one step (e.g. the
    key frame and the current frame); the current one is
    ``video_data_samples[key_frames_inds[0]]`` (the last frame when the index is not
    set). A plain ``DetDataSample`` is its own current frame.
    """
    frames = field(sample, 'video_data_samples')
    if frames is None:
        return sample
    key_inds = field(sample, 'key_frames_inds') or [len(frames) - 1]
    return frames[key_inds[0]]


def frame_prediction(
    sample: Any, metric: str
) -> Tuple[int, np.ndarray, np.ndarray, np.ndarray, Any]:
    """``(img_id, boxes (n, 4), scores (n,), labels (n,), frame)`` of a sample's current frame.

    Args:
        sample: A ``TrackDataSample`` / ``DetDataSample`` or its ``to_dict()``.
        metric (str): The metric's name, for error messages.

    Raises:
        ValueError: If the frame has no ``img_id`` or ``pred_instances``, or the lengths of
            boxes, scores and labels differ.
    """
    frame = current_frame(sample)
    img_id = field(frame, 'img_id')
    pred = field(frame, 'pred_instances')
    if img_id is None or pred is None:
        raise ValueError(
            f'{metric} needs img_id and pred_instances on the current frame of each data '
            f'sample; got img_id={img_id}, pred_instances={pred}'
        )
    boxes = to_numpy(field(pred, 'bboxes'), np.float64).reshape(-1, 4)
    scores = to_numpy(field(pred, 'scores'), np.float64).reshape(-1)
    labels = to_numpy(field(pred, 'labels'), np.int64).reshape(-1)
    if not len(boxes) == len(scores) == len(labels):
        raise ValueError(
            f'img_id {img_id}: {len(boxes)} boxes, {len(scores)} scores and {len(labels)} labels'
        )
    return int(img_id), boxes, scores, labels, frame


class EvaluateEveryFrame:
    """Mixin for ``BaseMetric`` subclasses that store one result per *frame*.

    The mmengine loops call ``evaluate(size=len(dataset))``; for a video dataset that is
    the number of *videos*, and ``BaseMetric.evaluate`` would truncate the collected
    results to ``size`` (also in a single process). The true number of frames, summed
    over the processes, is used instead, so every frame is evaluated exactly once.
    """

    def evaluate(self, size: int) -> dict:
        """Collect the per-frame results of every process and compute the metrics.

        Args:
            size: Ignored (see the class docstring); kept for the ``BaseMetric`` interface.
        """
        from mmengine.dist import all_gather_object

        total = sum(all_gather_object(len(self.results)))
        return super().evaluate(total)

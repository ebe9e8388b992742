"""Drawing detections on frames and writing annotated videos (MP4 via OpenCV, GIF via PIL)."""

import os
import os.path as osp
from typing import List, Optional, Sequence

import cv2
import numpy as np

_COLORS = [
    (56, 56, 255),
    (151, 157, 255),
    (31, 112, 255),
    (29, 178, 255),
    (49, 210, 207),
    (10, 249, 72),
    (23, 204, 146),
    (134, 219, 61),
    (52, 147, 26),
    (187, 212, 0),
]


def draw_detections(
    img: np.ndarray,
    pred_instances,
    class_names: Optional[Sequence[str]] = None,
    score_thr: float = 0.3,
    caption: Optional[str] = None,
) -> np.ndarray:
    """Return a copy of BGR ``img`` with the boxes scoring at least ``score_thr``.

    Args:
        img (np.ndarray): HxWx3 BGR uint8 frame.
        pred_instances (InstanceData): ``bboxes`` (n, 4) xyxy, ``scores``, ``labels``.
        class_names (Sequence[str], optional): Label names.
        score_thr (float): Minimum score to draw.
        caption (str, optional): Text in the top-left corner.
    """
    out = img.copy()
    bboxes = pred_instances.bboxes.detach().cpu().numpy()
    scores = pred_instances.scores.detach().cpu().numpy()
    labels = pred_instances.labels.detach().cpu().numpy()
    for box, score, label in zip(bboxes, scores, labels):
        if score < score_thr:
            continue
        color = _COLORS[int(label) % len(_COLORS)]
        x1, y1, x2, y2 = (int(round(v)) for v in box)
        cv2.rectangle(out, (x1, y1), (x2, y2), color, 1)
        name = class_names[int(label)] if class_names else str(int(label))
        cv2.putText(
            out,
            f'{name} {score:.2f}',
            (x1, max(y1 - 2, 8)),
            cv2.FONT_HERSHEY_SIMPLEX,
            0.3,
            color,
            1,
            cv2.LINE_AA,
        )
    if caption:
        cv2.putText(
            out, caption, (3, 10), cv2.FONT_HERSHEY_SIMPLEX, 0.3, (255, 255, 255), 1, cv2.LINE_AA
        )
    return out


def write_video(frames: List[np.ndarray], path: str, fps: float = 10.0) -> str:
    """Write BGR frames to ``path`` (``.gif`` with PIL, anything else with OpenCV's mp4v)."""
    if not frames:
        raise ValueError('frames: nothing to write')
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    if path.lower().endswith('.gif'):
        from PIL import Image

        images = [Image.fromarray(cv2.cvtColor(f, cv2.COLOR_BGR2RGB)) for f in frames]
        images[0].save(
            path, save_all=True, append_images=images[1:], duration=int(1000 / fps), loop=0
        )
        return path
    h, w = frames[0].shape[:2]
    writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*'mp4v'), fps, (w, h))
    if not writer.isOpened():
        raise RuntimeError(f'cannot open a video writer for {path!r}')
    for frame in frames:
        writer.write(frame)
    writer.release()
    return path

"""Drawing detections on frames and writing annotated videos (MP4 via OpenCV, GIF via PIL)."""

import os
import os.path as osp
from typing import Iterable, Optional, Sequence

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


class VideoWriter:
    """Write BGR frames one at a time: an MP4 (OpenCV, ``mp4v``), a GIF (PIL) or a folder.

    MP4 and folder outputs hold no frame after :meth:`write` returns, so memory stays flat
    in the video's length; a GIF is assembled by PIL at :meth:`close` and keeps its
    (palette) frames until then. A path without a video extension is a folder of
    ``000000.jpg``, ``000001.jpg``, ...

    Args:
        path (str): ``*.mp4`` / ``*.avi`` / ``*.gif`` file or a folder.
        fps (float): Frame rate of the video file.
    """

    VIDEO_EXTENSIONS = ('.mp4', '.avi', '.mov', '.mkv')

    def __init__(self, path: str, fps: float = 10.0) -> None:
        if not fps or fps <= 0:
            raise ValueError(f'fps must be > 0, got {fps!r}')
        self.path, self.fps = path, float(fps)
        self.count = 0
        self._writer = None
        self._gif: Optional[list] = None
        self.kind = self.kind_of(path)
        target = path if self.kind == 'dir' else osp.dirname(osp.abspath(path))
        os.makedirs(target, exist_ok=True)
        if self.kind == 'gif':
            self._gif = []

    @classmethod
    def kind_of(cls, path: str) -> str:
        """``'gif'``, ``'video'`` or ``'dir'`` (a folder of JPEGs), from the extension."""
        ext = osp.splitext(path)[1].lower()
        return 'gif' if ext == '.gif' else 'video' if ext in cls.VIDEO_EXTENSIONS else 'dir'

    def write(self, frame: np.ndarray) -> None:
        """Append one HxWx3 BGR uint8 frame."""
        if self.kind == 'dir':
            cv2.imwrite(osp.join(self.path, f'{self.count:06d}.jpg'), frame)
        elif self.kind == 'gif':
            from PIL import Image

            self._gif.append(Image.fromarray(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)))
        else:
            if self._writer is None:
                h, w = frame.shape[:2]
                fourcc = cv2.VideoWriter_fourcc(*'mp4v')
                self._writer = cv2.VideoWriter(self.path, fourcc, self.fps, (w, h))
                if not self._writer.isOpened():
                    raise RuntimeError(f'cannot open a video writer for {self.path!r}')
            self._writer.write(frame)
        self.count += 1

    def close(self) -> str:
        """Finish the file; returns its path."""
        if self.count == 0:
            raise ValueError(f'{self.path}: no frame was written')
        if self._writer is not None:
            self._writer.release()
            self._writer = None
        if self._gif:
            duration = int(round(1000 / self.fps))
            self._gif[0].save(
                self.path, save_all=True, append_images=self._gif[1:], duration=duration, loop=0
            )
            self._gif = []
        return self.path

    def __enter__(self) -> 'VideoWriter':
        return self

    def __exit__(self, exc_type, *args) -> None:
        if exc_type is None:
            self.close()
        elif self._writer is not None:
            self._writer.release()


def write_video(frames: Iterable[np.ndarray], path: str, fps: float = 10.0) -> str:
    """Write BGR frames (any iterable, consumed one at a time) to ``path``; see
    :class:`VideoWriter`."""
    with VideoWriter(path, fps) as writer:
        for frame in frames:
            writer.write(frame)
    if writer.count == 0:
        raise ValueError('frames: nothing to write')
    return path

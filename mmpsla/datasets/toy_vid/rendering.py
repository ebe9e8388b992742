"""Rendering of toy frames: background, objects with occlusion, whole videos.

These functions are the reusable core of the toy sets (the detection set of
:func:`~.writer.make_toy_vid`, and any other task that needs the same scenes): they
draw into arrays and touch no files.
"""

from __future__ import annotations

from typing import Iterator, List, NamedTuple, Optional, Sequence

import cv2
import numpy as np

from .degradation import degradation_schedule, degrade_frame
from .motion import ToyObject, spawn_objects
from .shapes import shape_mask, texture


class ToyFrame(NamedTuple):
    """One rendered frame of :func:`render_video`.

    Attributes:
        image: The frame (H, W, 3), uint8 BGR.
        objects: Every object of the video, in its state at this frame.
        visible: Per object, the share of its silhouette that is not hidden by others.
        degradation: The :data:`~.degradation.TOY_DEGRADATIONS` entry applied, or None.
        owner: (H, W) int32: index into ``objects`` of the object that owns each pixel,
            -1 for background (a per-pixel instance map, before degradation).
    """

    image: np.ndarray
    objects: List[ToyObject]
    visible: List[float]
    degradation: Optional[str]
    owner: np.ndarray


def render_background(rng: np.random.Generator, width: int, height: int) -> np.ndarray:
    """A cluttered background: smooth colour field, fine grain and distractor strokes.

    Returns:
        (height, width, 3) float32 in [0, 255].
    """
    coarse = rng.uniform(60, 190, size=(4, 6, 3)).astype(np.float32)
    bg = cv2.resize(coarse, (width, height), interpolation=cv2.INTER_CUBIC)
    grain = rng.normal(0, 10, size=(height // 2, width // 2, 1)).astype(np.float32)
    bg += cv2.resize(grain, (width, height), interpolation=cv2.INTER_LINEAR)[..., None]
    for _ in range(int(rng.integers(8, 15))):  # clutter: lines and blobs of no class
        color = tuple(float(c) for c in rng.uniform(40, 220, size=3))
        if rng.random() < 0.5:
            p1 = (int(rng.integers(0, width)), int(rng.integers(0, height)))
            p2 = (int(rng.integers(0, width)), int(rng.integers(0, height)))
            cv2.line(bg, p1, p2, color, int(rng.integers(1, 3)), cv2.LINE_AA)
        else:
            center = (int(rng.integers(0, width)), int(rng.integers(0, height)))
            axes = (int(rng.integers(3, 12)), int(rng.integers(2, 7)))
            angle = float(rng.uniform(0, 180))
            cv2.ellipse(bg, center, axes, angle, 0, 360, color, -1, cv2.LINE_AA)
    return np.clip(bg, 0, 255)


def draw_object(canvas: np.ndarray, owner: np.ndarray, obj: ToyObject, index: int) -> None:
    """Paint ``obj`` onto ``canvas`` (H, W, 3) and record its pixels in ``owner`` (H, W).

    Pixels inside the object's silhouette get its texture colours and ``owner == index``;
    later calls paint over earlier ones (occlusion by drawing order).
    """
    height, width = owner.shape
    x1, y1, x2, y2 = obj.box()
    x1c, y1c, x2c, y2c = max(x1, 0), max(y1, 0), min(x2, width), min(y2, height)
    if x2c <= x1c or y2c <= y1c:
        return
    ys, xs = np.mgrid[y1c:y2c, x1c:x2c].astype(np.float32)
    px, py = xs + 0.5 - obj.cx, ys + 0.5 - obj.cy  # pixel centres, object frame
    half = obj.size / 2
    mask = shape_mask(obj.label, px / half, py / half)
    tex = texture(obj.label, px, py, obj.phase, obj.size)
    colors = np.where(tex[..., None], obj.color_a, obj.color_b)
    region = canvas[y1c:y2c, x1c:x2c]
    region[mask] = colors[mask]
    owner[y1c:y2c, x1c:x2c][mask] = index


def render_video(
    rng: np.random.Generator,
    num_frames: int,
    width: int,
    height: int,
    num_objects_range: Sequence[int],
    size_range: Sequence[int],
    degraded_fraction: float,
) -> Iterator[ToyFrame]:
    """Render one video frame by frame (deterministic in ``rng``'s state).

    Args:
        rng: The video's random generator.
        num_frames: Frames to render.
        width: Frame width in pixels.
        height: Frame height in pixels.
        num_objects_range: Inclusive range of the number of objects.
        size_range: Range of the objects' box side in pixels.
        degraded_fraction: Target share of degraded frames (in bursts).

    Yields:
        :class:`ToyFrame` per frame; the objects' z-order is re-shuffled every 12 frames
        so occluders swap.
    """
    background = render_background(rng, width, height)
    num_objects = int(rng.integers(num_objects_range[0], num_objects_range[1] + 1))
    objects = spawn_objects(rng, num_objects, width, height, size_range)
    schedule = degradation_schedule(rng, num_frames, degraded_fraction)
    order = list(rng.permutation(num_objects))
    for frame_idx in range(num_frames):
        if frame_idx > 0:
            for obj in objects:
                obj.step(width, height)
            if frame_idx % 12 == 0:
                order = list(rng.permutation(num_objects))
        canvas = background.copy()
        owner = np.full((height, width), -1, np.int32)
        full_area = []
        for index in order:
            draw_object(canvas, owner, objects[index], index)
        for index, obj in enumerate(objects):
            # visible share = painted pixels / pixels of the silhouette alone
            solo = np.full((height, width), -1, np.int32)
            draw_object(np.zeros_like(canvas), solo, obj, index)
            full_area.append(max(int((solo == index).sum()), 1))
        visible = [float((owner == i).sum()) / full_area[i] for i in range(num_objects)]
        kind = schedule[frame_idx]
        if kind is not None:
            canvas = degrade_frame(canvas, kind, rng)
        yield ToyFrame(np.round(canvas).astype(np.uint8), objects, visible, kind, owner)

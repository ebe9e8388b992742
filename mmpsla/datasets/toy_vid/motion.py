"""Moving objects of a toy video: state, motion with bounces, random spawning."""

import math
from dataclasses import dataclass
from typing import List, Sequence, Tuple

import numpy as np

from .shapes import MIN_CONTRAST, PALETTE, TOY_CLASSES

#: Speed categories (pixels per frame) of the objects: (low, high).
TOY_SPEEDS = {'slow': (0.05, 0.25), 'medium': (0.6, 1.3), 'fast': (2.2, 4.0)}


@dataclass
class ToyObject:
    """State of one moving object of a toy video.

    Attributes:
        label: Index into :data:`~.shapes.TOY_CLASSES`.
        size: Side of the (square) bounding box in pixels.
        cx, cy: Centre in pixels.
        vx, vy: Velocity in pixels per frame.
        color_a, color_b: The texture's two BGR colours, shape (3,).
        phase: Texture shift in periods.
        speed_name: The :data:`TOY_SPEEDS` category the speed was drawn from.
    """

    label: int
    size: float
    cx: float
    cy: float
    vx: float
    vy: float
    color_a: np.ndarray
    color_b: np.ndarray
    phase: float
    speed_name: str

    def step(self, width: int, height: int) -> None:
        """Move by one frame and bounce off the image borders."""
        half = self.size / 2
        self.cx += self.vx
        self.cy += self.vy
        if self.cx - half < 0 or self.cx + half > width:
            self.vx = -self.vx
            self.cx = float(np.clip(self.cx, half, width - half))
        if self.cy - half < 0 or self.cy + half > height:
            self.vy = -self.vy
            self.cy = float(np.clip(self.cy, half, height - half))

    def box(self) -> Tuple[int, int, int, int]:
        """Integer pixel box ``(x1, y1, x2, y2)`` (x2/y2 exclusive)."""
        half = self.size / 2
        return (
            int(math.floor(self.cx - half)),
            int(math.floor(self.cy - half)),
            int(math.ceil(self.cx + half)),
            int(math.ceil(self.cy + half)),
        )


def spawn_objects(
    rng: np.random.Generator, num_objects: int, width: int, height: int, size_range: Sequence[int]
) -> List[ToyObject]:
    """Draw ``num_objects`` objects inside a ``width`` x ``height`` frame.

    Each gets a class, a size in ``size_range``, a speed category and direction, and two
    texture colours at least :data:`~.shapes.MIN_CONTRAST` apart.
    """
    objects = []
    speed_names = list(TOY_SPEEDS)
    for _ in range(num_objects):
        size = float(rng.uniform(size_range[0], size_range[1]))
        speed_name = speed_names[int(rng.integers(len(speed_names)))]
        speed = float(rng.uniform(*TOY_SPEEDS[speed_name]))
        angle = float(rng.uniform(0, 2 * math.pi))
        ia = int(rng.integers(len(PALETTE)))
        # the texture's second colour must stand out from the first (visible texture)
        far = np.flatnonzero(np.linalg.norm(PALETTE - PALETTE[ia], axis=1) >= MIN_CONTRAST)
        ib = int(far[rng.integers(len(far))])
        objects.append(
            ToyObject(
                label=int(rng.integers(len(TOY_CLASSES))),
                size=size,
                cx=float(rng.uniform(size / 2, width - size / 2)),
                cy=float(rng.uniform(size / 2, height - size / 2)),
                vx=speed * math.cos(angle),
                vy=speed * math.sin(angle),
                color_a=PALETTE[ia],
                color_b=PALETTE[ib],
                phase=float(rng.uniform(0, 1)),
                speed_name=speed_name,
            )
        )
    return objects

"""Silhouettes, textures and colours of the toy classes."""

import numpy as np

#: The toy classes; each has its own silhouette and its own texture.
TOY_CLASSES = ('disc', 'square', 'triangle', 'cross')

#: Shared colour palette (BGR), shape (10, 3); every class draws its two texture colours
#: from it, so colour carries no class evidence.
PALETTE = np.array(
    [
        (40, 40, 200),
        (40, 180, 230),
        (60, 190, 60),
        (200, 120, 40),
        (190, 60, 170),
        (230, 230, 230),
        (30, 30, 30),
        (120, 200, 200),
        (90, 90, 160),
        (200, 200, 80),
    ],
    dtype=np.float32,
)

#: Minimum RGB distance between the two texture colours of an object.
MIN_CONTRAST = 120.0


def shape_mask(label: int, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Silhouette of class ``label``.

    Args:
        label: Index into :data:`TOY_CLASSES`.
        u: Horizontal object-local coordinates, any shape, in [-1, 1] over the box.
        v: Vertical object-local coordinates, same shape as ``u``.

    Returns:
        Boolean array of ``u``'s shape: True inside the silhouette.
    """
    name = TOY_CLASSES[label]
    if name == 'disc':
        return u * u + v * v <= 1.0
    if name == 'square':
        return (np.abs(u) <= 0.92) & (np.abs(v) <= 0.92)
    if name == 'triangle':  # apex up, base at the bottom
        return (v <= 1.0) & (np.abs(u) <= (v + 1.0) / 2.0)
    if name == 'cross':
        arm = 0.36
        return ((np.abs(u) <= arm) & (np.abs(v) <= 1.0)) | ((np.abs(v) <= arm) & (np.abs(u) <= 1.0))
    raise ValueError(f'unknown toy label {label}')


def texture(label: int, x: np.ndarray, y: np.ndarray, phase: float, size: float) -> np.ndarray:
    """Binary texture of class ``label`` in object-local pixel coordinates.

    The texture's period scales with the object's ``size`` (bounded below by 2.5 px), so an
    object of a class looks alike at every size: about 4 rings, a 6 x 6 checkerboard,
    5 stripes or a 4 x 4 dot grid.

    Args:
        label: Index into :data:`TOY_CLASSES`.
        x: Pixel offsets from the object's centre, any shape.
        y: Same shape as ``x``.
        phase: Shift of the pattern in periods, in [0, 1).
        size: Side of the object's box in pixels.

    Returns:
        Boolean array of ``x``'s shape: True where the first colour is painted.
    """
    name = TOY_CLASSES[label]
    if name == 'disc':  # concentric rings
        return (np.floor(np.sqrt(x * x + y * y) / max(size / 8, 2.5) + phase) % 2) == 0
    if name == 'square':  # checkerboard
        cell = max(size / 6, 2.5)
        return ((np.floor(x / cell + phase) + np.floor(y / cell)) % 2) == 0
    if name == 'triangle':  # diagonal stripes
        return (np.floor((x + y) / max(size / 5, 2.5) + phase) % 2) == 0
    if name == 'cross':  # polka dots
        cell = max(size / 4, 3.0)
        gx = (x / cell + phase) % 1.0 - 0.5
        gy = (y / cell) % 1.0 - 0.5
        return gx * gx + gy * gy < 0.09
    raise ValueError(f'unknown toy label {label}')

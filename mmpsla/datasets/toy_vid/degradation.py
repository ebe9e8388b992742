"""Frame degradations of the toy set (motion blur, defocus, noise) and their schedule."""

from __future__ import annotations

from typing import List

import cv2
import numpy as np

#: Degradation types applied to bursts of frames.
TOY_DEGRADATIONS = ('motion_blur', 'defocus', 'noise')


def degrade_frame(
    img: np.ndarray, kind: str, rng: np.random.Generator, strength: float = 1.0
) -> np.ndarray:
    """Degrade a whole frame; texture and shape detail go, coarse blobs stay.

    Args:
        img: Frame (H, W, 3), float32 in [0, 255].
        kind: One of :data:`TOY_DEGRADATIONS`.
        rng: Draws the blur length/angle or radius and the sensor noise.
        strength: Scales the blur size and the noise.

    Returns:
        The degraded frame (H, W, 3), float32 clipped to [0, 255].
    """
    if kind == 'motion_blur':
        length = int(round(rng.uniform(15, 23) * strength)) | 1
        kernel = np.zeros((length, length), np.float32)
        kernel[length // 2, :] = 1.0
        rot = cv2.getRotationMatrix2D((length / 2 - 0.5, length / 2 - 0.5), rng.uniform(0, 180), 1)
        kernel = cv2.warpAffine(kernel, rot, (length, length))
        kernel /= max(kernel.sum(), 1e-6)
        out = cv2.filter2D(img, -1, kernel, borderType=cv2.BORDER_REFLECT)
        out = cv2.GaussianBlur(out, (0, 0), 2.0)  # also blurs stripes along the motion
        noise_sigma = 10.0
    elif kind == 'defocus':
        radius = max(2, int(round(rng.uniform(6, 9) * strength)))
        kernel = np.zeros((2 * radius + 1, 2 * radius + 1), np.float32)
        cv2.circle(kernel, (radius, radius), radius, 1.0, -1)
        kernel /= kernel.sum()
        out = cv2.filter2D(img, -1, kernel, borderType=cv2.BORDER_REFLECT)
        noise_sigma = 10.0
    elif kind == 'noise':
        out = cv2.GaussianBlur(img, (0, 0), 3.0 * strength)
        noise_sigma = 60.0 * strength
    else:
        raise ValueError(f'unknown degradation {kind!r}, expected one of {TOY_DEGRADATIONS}')
    mean = out.mean(axis=(0, 1), keepdims=True)
    out = mean + 0.65 * (out - mean)  # washed-out contrast
    out = out + rng.normal(0, noise_sigma, size=out.shape).astype(np.float32)
    return np.clip(out, 0, 255)


def degradation_schedule(
    rng: np.random.Generator, num_frames: int, fraction: float
) -> List[str | None]:
    """Per-frame degradation (``None`` = clean) in contiguous bursts of 2-7 frames.

    Bursts are separated by at least 2 clean frames and the video is never entirely
    degraded; the degraded share is close to ``fraction`` (exact up to one burst).
    """
    schedule: List[str | None] = [None] * num_frames
    if fraction <= 0 or num_frames < 4:
        return schedule
    target = int(round(fraction * num_frames))
    target = min(target, num_frames - max(2, num_frames // 3))
    degraded = 0
    attempts = 0
    while degraded < target and attempts < 200:
        attempts += 1
        length = int(min(rng.integers(2, 8), target - degraded))
        if length < 1:
            break
        start = int(rng.integers(0, num_frames - length + 1))
        lo, hi = max(0, start - 2), min(num_frames, start + length + 2)
        if any(s is not None for s in schedule[lo:hi]):
            continue
        kind = TOY_DEGRADATIONS[int(rng.integers(len(TOY_DEGRADATIONS)))]
        for i in range(start, start + length):
            schedule[i] = kind
        degraded += length
    return schedule

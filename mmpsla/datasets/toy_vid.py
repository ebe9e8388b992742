"""Procedural toy video-object-detection dataset (the embedded default of mmpsla).

``make_toy_vid(out_dir, seed=0)`` renders short videos of textured objects of
``TOY_CLASSES`` moving over a cluttered background and writes them as JPEG frames plus
CocoVID JSON (``annotations/train.json`` and ``annotations/val.json``)::

    out_dir/
      annotations/train.json, annotations/val.json
      Data/train/toy_train_0000/000000.jpg ...
      Data/val/toy_val_0000/000000.jpg ...

``file_name`` in the JSON is relative to ``out_dir/Data/``.

Why it is a *video* dataset: the class of an object is carried by its shape and its
texture (colours are drawn from one palette shared by all classes). About 30 % of the
frames, in short contiguous bursts, are degraded by motion blur, defocus or heavy sensor
noise, which wipes out texture and fine shape detail while the coarse blob (position,
extent) stays visible. A single-frame detector struggles on those frames; a detector that
propagates features from clean key frames (PSLA, DFF, FGFA) can recover them. Every image
records ``is_degraded`` and ``degradation`` so the metric can report both subsets.

Objects move at slow / medium / fast speeds (bouncing off the borders) and occlude each
other (``occluded`` marks boxes whose object is more than 25 % hidden; objects hidden by
more than 90 % are not annotated, like ImageNet VID); each annotation also records the
``speed`` class its object was generated with (the metric measures motion itself, FGFA-style).

Everything is a pure function of ``seed`` and the size arguments: the same call writes
byte-identical JSON and pixel-identical frames.

Default size: 48 train videos and 12 val videos of 25 frames (1200 + 300 frames, about 140
+ 35 objects), generated in a few seconds. Many short videos rather than a few long ones
give a detector more distinct object instances to learn the classes from. Measured with a
small CNN trained on ground-truth crops of the default train split and tested on the crops
of 48 fresh videos (seed 1): 0.79 accuracy on clean frames, 0.34 on degraded frames
(chance: 0.25), i.e. the degradations remove most of the class evidence.
"""

from __future__ import annotations

import json
import math
import os
import os.path as osp
import shutil
from dataclasses import dataclass
from typing import Dict, List, Sequence, Tuple

import cv2
import numpy as np

from .cocovid_utils import evenly_spaced_frames, vid_statistics

#: The toy classes; each has its own silhouette and its own texture.
TOY_CLASSES = ('disc', 'square', 'triangle', 'cross')
#: Degradation types applied to bursts of frames.
TOY_DEGRADATIONS = ('motion_blur', 'defocus', 'noise')
#: Speed categories (pixels per frame) of the objects: (low, high).
TOY_SPEEDS = {'slow': (0.05, 0.25), 'medium': (0.6, 1.3), 'fast': (2.2, 4.0)}

_GENERATOR_VERSION = 3  # bump when the output of a given seed changes
# Shared colour palette (BGR); every class draws its two texture colours from it.
_PALETTE = np.array(
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
_MIN_CONTRAST = 120.0


@dataclass
class _ToyObject:
    """State of one moving object of a toy video."""

    label: int
    size: float  # side of the (square) bounding box in pixels
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


def _shape_mask(label: int, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Silhouette of class ``label`` in local coordinates ``u, v`` in [-1, 1]."""
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


def _texture(label: int, x: np.ndarray, y: np.ndarray, phase: float, size: float) -> np.ndarray:
    """Binary texture of class ``label`` in object-local pixel coordinates.

    The texture's period scales with the object's ``size`` (bounded below by 2.5 px), so an
    object of a class looks alike at every size: about 4 rings, a 6 x 6 checkerboard,
    5 stripes or a 4 x 4 dot grid.
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


def _render_background(rng: np.random.Generator, width: int, height: int) -> np.ndarray:
    """A cluttered background: smooth colour field, fine grain and distractor strokes."""
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


def _degrade(
    img: np.ndarray, kind: str, rng: np.random.Generator, strength: float = 1.0
) -> np.ndarray:
    """Degrade a whole frame; texture and shape detail go, coarse blobs stay."""
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


def _degradation_schedule(
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


def _spawn_objects(
    rng: np.random.Generator, num_objects: int, width: int, height: int, size_range: Sequence[int]
) -> List[_ToyObject]:
    objects = []
    speed_names = list(TOY_SPEEDS)
    for _ in range(num_objects):
        size = float(rng.uniform(size_range[0], size_range[1]))
        speed_name = speed_names[int(rng.integers(len(speed_names)))]
        speed = float(rng.uniform(*TOY_SPEEDS[speed_name]))
        angle = float(rng.uniform(0, 2 * math.pi))
        ia = int(rng.integers(len(_PALETTE)))
        # the texture's second colour must stand out from the first (visible texture)
        far = np.flatnonzero(np.linalg.norm(_PALETTE - _PALETTE[ia], axis=1) >= _MIN_CONTRAST)
        ib = int(far[rng.integers(len(far))])
        objects.append(
            _ToyObject(
                label=int(rng.integers(len(TOY_CLASSES))),
                size=size,
                cx=float(rng.uniform(size / 2, width - size / 2)),
                cy=float(rng.uniform(size / 2, height - size / 2)),
                vx=speed * math.cos(angle),
                vy=speed * math.sin(angle),
                color_a=_PALETTE[ia],
                color_b=_PALETTE[ib],
                phase=float(rng.uniform(0, 1)),
                speed_name=speed_name,
            )
        )
    return objects


def _draw_object(canvas: np.ndarray, owner: np.ndarray, obj: _ToyObject, index: int) -> None:
    """Paint ``obj`` onto ``canvas`` (H, W, 3) and record its pixels in ``owner`` (H, W)."""
    height, width = owner.shape
    x1, y1, x2, y2 = obj.box()
    x1c, y1c, x2c, y2c = max(x1, 0), max(y1, 0), min(x2, width), min(y2, height)
    if x2c <= x1c or y2c <= y1c:
        return
    ys, xs = np.mgrid[y1c:y2c, x1c:x2c].astype(np.float32)
    px, py = xs + 0.5 - obj.cx, ys + 0.5 - obj.cy  # pixel centres, object frame
    half = obj.size / 2
    mask = _shape_mask(obj.label, px / half, py / half)
    tex = _texture(obj.label, px, py, obj.phase, obj.size)
    colors = np.where(tex[..., None], obj.color_a, obj.color_b)
    region = canvas[y1c:y2c, x1c:x2c]
    region[mask] = colors[mask]
    owner[y1c:y2c, x1c:x2c][mask] = index


def _render_video(
    rng: np.random.Generator,
    num_frames: int,
    width: int,
    height: int,
    num_objects_range: Sequence[int],
    size_range: Sequence[int],
    degraded_fraction: float,
):
    """Yield ``(frame (H, W, 3) uint8, objects, visible_fraction, degradation)``."""
    background = _render_background(rng, width, height)
    num_objects = int(rng.integers(num_objects_range[0], num_objects_range[1] + 1))
    objects = _spawn_objects(rng, num_objects, width, height, size_range)
    schedule = _degradation_schedule(rng, num_frames, degraded_fraction)
    # z-order changes slowly: re-shuffled every ~12 frames so occluders swap
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
            _draw_object(canvas, owner, objects[index], index)
        for index, obj in enumerate(objects):
            # visible share = painted pixels / pixels of the silhouette alone
            solo = np.full((height, width), -1, np.int32)
            _draw_object(np.zeros_like(canvas), solo, obj, index)
            full_area.append(max(int((solo == index).sum()), 1))
        visible = [float((owner == i).sum()) / full_area[i] for i in range(num_objects)]
        kind = schedule[frame_idx]
        if kind is not None:
            canvas = _degrade(canvas, kind, rng)
        yield np.round(canvas).astype(np.uint8), objects, visible, kind


def _make_split(
    out_dir: str,
    split: str,
    num_videos: int,
    num_frames: int,
    rng: np.random.Generator,
    width: int,
    height: int,
    num_objects_range: Sequence[int],
    size_range: Sequence[int],
    degraded_fraction: float,
    jpeg_quality: int,
    progress: bool,
) -> dict:
    categories = [{'id': i + 1, 'name': name} for i, name in enumerate(TOY_CLASSES)]
    videos, images, annotations = [], [], []
    instance_offset = 0
    pbar = None
    if progress:
        from tqdm import tqdm

        pbar = tqdm(total=num_videos * num_frames, desc=f'toy_vid {split}', unit='frame')
    for video_idx in range(num_videos):
        video_id = video_idx + 1
        video_name = f'toy_{split}_{video_idx:04d}'
        videos.append({'id': video_id, 'name': video_name})
        os.makedirs(osp.join(out_dir, 'Data', split, video_name), exist_ok=True)
        video_rng = np.random.default_rng(rng.integers(2**63))
        train_ids = set(evenly_spaced_frames(num_frames))
        frames = _render_video(
            video_rng,
            num_frames,
            width,
            height,
            num_objects_range,
            size_range,
            degraded_fraction,
        )
        for frame_id, (frame, objects, visible, kind) in enumerate(frames):
            file_name = f'{split}/{video_name}/{frame_id:06d}.jpg'
            cv2.imwrite(
                osp.join(out_dir, 'Data', file_name),
                frame,
                [cv2.IMWRITE_JPEG_QUALITY, jpeg_quality],
            )
            image_id = len(images) + 1
            images.append(
                {
                    'id': image_id,
                    'video_id': video_id,
                    'frame_id': frame_id,
                    'file_name': file_name,
                    'height': height,
                    'width': width,
                    'is_vid_train_frame': frame_id in train_ids,
                    'is_degraded': kind is not None,
                    'degradation': kind,
                }
            )
            for obj_idx, obj in enumerate(objects):
                if visible[obj_idx] < 0.1:  # hidden: not annotated
                    continue
                x1, y1, x2, y2 = obj.box()
                x1, y1 = max(x1, 0), max(y1, 0)
                x2, y2 = min(x2, width), min(y2, height)
                w, h = x2 - x1, y2 - y1
                annotations.append(
                    {
                        'id': len(annotations) + 1,
                        'image_id': image_id,
                        'video_id': video_id,
                        'category_id': obj.label + 1,
                        'instance_id': instance_offset + obj_idx + 1,
                        'bbox': [x1, y1, w, h],
                        'area': w * h,
                        'iscrowd': False,
                        'occluded': visible[obj_idx] < 0.75,
                        'speed': obj.speed_name,
                    }
                )
            if pbar is not None:
                pbar.update(1)
        instance_offset += len(objects)
    if pbar is not None:
        pbar.close()
    return {
        'categories': categories,
        'videos': videos,
        'images': images,
        'annotations': annotations,
    }


def make_toy_vid(
    out_dir: str,
    seed: int = 0,
    num_train_videos: int = 48,
    num_val_videos: int = 12,
    num_frames: int = 25,
    width: int = 192,
    height: int = 128,
    num_objects_range: Tuple[int, int] = (2, 4),
    size_range: Tuple[int, int] = (18, 50),
    degraded_fraction: float = 0.3,
    jpeg_quality: int = 92,
    overwrite: bool = False,
    progress: bool = True,
) -> Dict[str, Dict[str, float]]:
    """Generate the toy VID dataset into ``out_dir`` (deterministic in ``seed``).

    Args:
        out_dir (str): Output root; gets ``annotations/{train,val}.json`` and ``Data/``.
        seed (int): Random seed; the train and val splits use independent streams.
        num_train_videos (int): Videos in the train split.
        num_val_videos (int): Videos in the val split.
        num_frames (int): Frames per video (at least 4).
        width (int): Frame width in pixels.
        height (int): Frame height in pixels.
        num_objects_range (tuple[int, int]): Inclusive range of objects per video.
        size_range (tuple[int, int]): Range of the objects' box side in pixels.
        degraded_fraction (float): Target share of degraded frames per video, in [0, 0.6].
        jpeg_quality (int): JPEG quality of the written frames.
        overwrite (bool): Regenerate even if ``out_dir`` already holds a dataset made with
            the same arguments. A dataset made with *different* arguments is only replaced
            when ``overwrite`` is True (otherwise ``FileExistsError``); one made by another
            version of this generator is outdated and regenerated.
        progress (bool): Show tqdm progress bars.

    Returns:
        dict: ``{'train': stats, 'val': stats}`` from :func:`vid_statistics`.
    """
    if num_frames < 4:
        raise ValueError(f'num_frames must be >= 4, got {num_frames}')
    if num_train_videos < 1 or num_val_videos < 1:
        raise ValueError(
            'num_train_videos and num_val_videos must be >= 1, got '
            f'{num_train_videos} and {num_val_videos}'
        )
    if not 0 <= degraded_fraction <= 0.6:
        raise ValueError(f'degraded_fraction must be in [0, 0.6], got {degraded_fraction}')
    if size_range[0] < 6 or size_range[1] < size_range[0]:
        raise ValueError(f'size_range must satisfy 6 <= low <= high, got {size_range}')
    if size_range[1] >= min(width, height):
        raise ValueError(f'size_range {size_range} does not fit a {width}x{height} frame')
    if num_objects_range[0] < 1 or num_objects_range[1] < num_objects_range[0]:
        raise ValueError(
            f'num_objects_range must satisfy 1 <= low <= high, got {num_objects_range}'
        )
    params = {
        'version': _GENERATOR_VERSION,
        'seed': int(seed),
        'num_train_videos': int(num_train_videos),
        'num_val_videos': int(num_val_videos),
        'num_frames': int(num_frames),
        'width': int(width),
        'height': int(height),
        'num_objects_range': [int(v) for v in num_objects_range],
        'size_range': [int(v) for v in size_range],
        'degraded_fraction': float(degraded_fraction),
        'jpeg_quality': int(jpeg_quality),
    }
    ann_dir = osp.join(out_dir, 'annotations')
    split_files = {s: osp.join(ann_dir, f'{s}.json') for s in ('train', 'val')}
    if all(osp.isfile(f) for f in split_files.values()):
        existing = [_load_json(f) for f in split_files.values()]
        found = [e.get('info', {}).get('toy_vid_params') or {} for e in existing]
        same = all(f == params for f in found)
        # made by another version of this generator: outdated, regenerate
        stale = any(f.get('version') != _GENERATOR_VERSION for f in found)
        if same and not overwrite:
            if progress:
                print(f'{out_dir}: already holds this toy dataset (overwrite=True regenerates)')
            return {s: vid_statistics(e) for s, e in zip(split_files, existing)}
        if not same and not stale and not overwrite:
            raise FileExistsError(
                f'{out_dir} already holds a toy dataset generated with other arguments; '
                'pass overwrite=True (--overwrite) to replace it'
            )
    for split in split_files:
        shutil.rmtree(osp.join(out_dir, 'Data', split), ignore_errors=True)
    os.makedirs(ann_dir, exist_ok=True)
    seq = np.random.SeedSequence(int(seed))
    split_seeds = dict(zip(split_files, seq.spawn(2)))
    num_videos = {'train': num_train_videos, 'val': num_val_videos}
    stats = {}
    for split, ann_file in split_files.items():
        coco_vid = _make_split(
            out_dir,
            split,
            num_videos[split],
            num_frames,
            np.random.default_rng(split_seeds[split]),
            width,
            height,
            num_objects_range,
            size_range,
            degraded_fraction,
            jpeg_quality,
            progress,
        )
        coco_vid['info'] = {'description': f'mmpsla toy VID ({split})', 'toy_vid_params': params}
        with open(ann_file, 'w') as f:
            json.dump(coco_vid, f)
        stats[split] = vid_statistics(coco_vid)
    return stats


def _load_json(path: str) -> dict:
    with open(path) as f:
        return json.load(f)

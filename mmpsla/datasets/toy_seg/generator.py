"""Procedural toy video-segmentation set, written in the CityScapes sequence layout.

``make_toy_seg(out_dir, seed=0)`` renders snippets of textured regions of the toy VID
classes (disc, square, triangle, cross) moving over a cluttered background, with the
rendering functions of the toy VID generator (:mod:`mmpsla.datasets.toy_vid`), and writes
them exactly like CityScapes' ``leftImg8bit_sequence`` + ``gtFine`` packages::

    out_dir/
      leftImg8bit_sequence/{split}/{city}/{city}_{seq:06d}_{frame:06d}_leftImg8bit.png
      gtFine/{split}/{city}/{city}_{seq:06d}_{frame:06d}_gtFine_labelTrainIds.png
      toy_seg_meta.json        # arguments, degraded frames per split

Every snippet has ``frames_before + 1 + frames_after`` frames (CityScapes: 19 + 1 + 10 =
30); only its annotated frame (position ``frames_before``) has a label map, whose pixels
are train ids: 0 = background, ``1 + c`` = toy class ``c``. Like in CityScapes the
annotated frame's *number* is not 19 in general: snippet ``j`` of a sequence is annotated
at frame ``frames_before + 47 j``, so a sequence holds several non-overlapping snippets.

Why it is a *video* set: a region's class is carried by its silhouette, its texture and its
pair of texture colours, and the two colours of every class average to the same grey. In
``degraded_fraction`` of the snippets a short burst of frames around the annotated one (at
most 1 frame before it and 2 after) is degraded by motion blur, defocus or heavy noise,
which averages the texture out: every class becomes the same grey blob and only its coarse
silhouette is left. All other frames, the key frames included, are clean: under the
default test schedule (``l = 5``, middle key frame) the annotated frame's key frame lies 2
frames before it. A single-frame segmenter must guess the class of a grey blob; one that
propagates features from the clean key frame can recover it. ``toy_seg_meta.json`` lists
the degraded frames (``degraded[split][image stem] = kind``), which
``CityscapesVideoDataset`` reads to report mIoU on degraded annotated frames apart.

Everything is a pure function of ``seed`` and the size arguments.
"""

from __future__ import annotations

import json
import os
import os.path as osp
import shutil
from typing import Dict, Sequence, Tuple

import cv2
import numpy as np
from filelock import FileLock

from mmpsla.utils.atomic_io import atomic_dump_json

# Rendering of the toy VID generator (helper functions of that module).
from ..toy_vid import (
    TOY_CLASSES,
    TOY_DEGRADATIONS,
    degrade_frame,
    draw_object,
    render_background,
    spawn_objects,
)

#: Train-id 0 is the background, 1..4 the toy VID classes.
TOY_SEG_CLASSES = ('background',) + tuple(TOY_CLASSES)
#: RGB palette of the classes (for visualisation).
TOY_SEG_PALETTE = [[70, 70, 70], [220, 20, 60], [0, 142, 230], [250, 170, 30], [107, 142, 35]]

_GENERATOR_VERSION = 2
#: Lock file that serialises generators writing into the same folder.
LOCK_NAME = '.make_toy_seg.lock'
#: Texture colours of a region of class c: ``_MEAN_BGR +- _CLASS_SWING[c]``. Every class
#: has its own colour pair (a clean frame is easy to segment pixel by pixel), and every
#: pair averages to the same grey, so once blur, defocus or noise average the texture
#: out, all classes look alike and only the silhouette remains.
_MEAN_BGR = np.array((128.0, 128.0, 128.0), np.float32)
_CLASS_SWING = np.array([(75, 0, 0), (0, 75, 0), (0, 0, 75), (45, -45, 45)], np.float32)
_SNIPPET_STRIDE = 47  # frame-number distance between the annotated frames of a sequence
_CITIES = {
    'train': ('aachenoid', 'bremenish', 'cologneville', 'dresdenham'),
    'val': ('frankfurtoid', 'lindauish'),
}


def _snippet(
    rng: np.random.Generator,
    num_frames: int,
    annotated: int,
    width: int,
    height: int,
    num_objects_range: Sequence[int],
    size_range: Sequence[int],
    degraded: bool,
):
    """Render one snippet.

    Returns:
        tuple: ``frames`` (T, H, W, 3) uint8 BGR, ``label`` (H, W) uint8 train ids of the
        annotated frame, ``kinds`` (list of T degradation names or None).
    """
    background = render_background(rng, width, height)
    num_objects = int(rng.integers(num_objects_range[0], num_objects_range[1] + 1))
    objects = spawn_objects(rng, num_objects, width, height, size_range)
    for obj in objects:
        obj.color_a = _MEAN_BGR + _CLASS_SWING[obj.label]
        obj.color_b = _MEAN_BGR - _CLASS_SWING[obj.label]
    order = list(rng.permutation(num_objects))
    kinds = [None] * num_frames
    if degraded:
        kind = TOY_DEGRADATIONS[int(rng.integers(len(TOY_DEGRADATIONS)))]
        start = annotated - int(rng.integers(0, 2))
        stop = min(annotated + int(rng.integers(0, 3)), num_frames - 1)
        for i in range(start, stop + 1):
            kinds[i] = kind
    frames, label = [], None
    for idx in range(num_frames):
        if idx > 0:
            for obj in objects:
                obj.step(width, height)
        canvas = background.copy()
        owner = np.full((height, width), -1, np.int32)
        for index in order:
            draw_object(canvas, owner, objects[index], index)
        if idx == annotated:
            classes = np.array([obj.label + 1 for obj in objects] + [0], np.uint8)
            label = classes[owner]  # owner -1 -> the last entry, background
        if kinds[idx] is not None:
            canvas = degrade_frame(canvas, kinds[idx], rng)
        frames.append(np.round(canvas).astype(np.uint8))
    return np.stack(frames), label, kinds


def make_toy_seg(
    out_dir: str,
    seed: int = 0,
    num_train_snippets: int = 64,
    num_val_snippets: int = 24,
    frames_before: int = 19,
    frames_after: int = 10,
    snippets_per_sequence: int = 2,
    width: int = 192,
    height: int = 128,
    num_objects_range: Tuple[int, int] = (3, 5),
    size_range: Tuple[int, int] = (32, 64),
    degraded_fraction: float = 0.5,
    overwrite: bool = False,
) -> Dict[str, Dict[str, int]]:
    """Write the toy video-segmentation set into ``out_dir`` (deterministic in ``seed``).

    Args:
        out_dir (str): Output root (gets ``leftImg8bit_sequence/``, ``gtFine/`` and
            ``toy_seg_meta.json``).
        seed (int): Random seed; train and val use independent streams.
        num_train_snippets (int): Annotated snippets of the train split.
        num_val_snippets (int): Annotated snippets of the val split.
        frames_before (int): Frames before the annotated one (CityScapes: 19).
        frames_after (int): Frames after it (CityScapes: 10).
        snippets_per_sequence (int): Snippets that share one sequence number.
        width (int): Frame width.
        height (int): Frame height.
        num_objects_range (tuple[int, int]): Inclusive range of regions per snippet.
        size_range (tuple[int, int]): Range of the regions' side in pixels.
        degraded_fraction (float): Share of snippets whose annotated frame is degraded.
        overwrite (bool): Replace a set generated with other arguments (the same arguments
            are a no-op; another generator version is regenerated).

    Returns:
        dict: per split ``snippets``, ``frames``, ``degraded_annotated`` and
        ``pixels_per_class`` (list, train-id order).
    """
    if frames_before < 0 or frames_after < 0:
        raise ValueError(
            f'frames_before and frames_after must be >= 0, got {frames_before}, {frames_after}'
        )
    if num_train_snippets < 1 or num_val_snippets < 1:
        raise ValueError(
            'num_train_snippets and num_val_snippets must be >= 1, got '
            f'{num_train_snippets} and {num_val_snippets}'
        )
    if not 0 <= degraded_fraction <= 1:
        raise ValueError(f'degraded_fraction must be in [0, 1], got {degraded_fraction}')
    if size_range[0] < 6 or size_range[1] < size_range[0] or size_range[1] >= min(width, height):
        raise ValueError(f'size_range {size_range} does not fit a {width}x{height} frame')
    num_frames = frames_before + 1 + frames_after
    if num_frames > _SNIPPET_STRIDE:
        raise ValueError(f'snippets longer than {_SNIPPET_STRIDE} frames would overlap')
    params = {
        'version': _GENERATOR_VERSION,
        'seed': int(seed),
        'num_train_snippets': int(num_train_snippets),
        'num_val_snippets': int(num_val_snippets),
        'frames_before': int(frames_before),
        'frames_after': int(frames_after),
        'snippets_per_sequence': int(snippets_per_sequence),
        'width': int(width),
        'height': int(height),
        'num_objects_range': [int(v) for v in num_objects_range],
        'size_range': [int(v) for v in size_range],
        'degraded_fraction': float(degraded_fraction),
    }
    os.makedirs(out_dir, exist_ok=True)
    # one generator per folder at a time (two ranks or test processes starting at once):
    # the second waits, then finds the finished set and reuses it
    with FileLock(osp.join(out_dir, LOCK_NAME)):
        return _generate_locked(out_dir, params, overwrite)


def _generate_locked(out_dir: str, params: dict, overwrite: bool) -> dict:
    """Body of :func:`make_toy_seg`, run while holding the folder's lock."""
    seed = params['seed']
    num_train_snippets, num_val_snippets = params['num_train_snippets'], params['num_val_snippets']
    frames_before, frames_after = params['frames_before'], params['frames_after']
    snippets_per_sequence = params['snippets_per_sequence']
    width, height = params['width'], params['height']
    num_objects_range, size_range = tuple(params['num_objects_range']), tuple(params['size_range'])
    degraded_fraction = params['degraded_fraction']
    num_frames = frames_before + 1 + frames_after
    meta_file = osp.join(out_dir, 'toy_seg_meta.json')
    if osp.isfile(meta_file):
        with open(meta_file) as f:
            existing = json.load(f)
        found = existing.get('params', {})
        if found == params and not overwrite:
            return existing['stats']
        if found.get('version') == _GENERATOR_VERSION and found != params and not overwrite:
            raise FileExistsError(
                f'{out_dir} already holds a toy segmentation set generated with other '
                'arguments; pass overwrite=True (--overwrite) to replace it'
            )
    if osp.isfile(meta_file):  # first: a half-rewritten set never looks complete
        os.remove(meta_file)
    for sub in ('leftImg8bit_sequence', 'gtFine'):
        shutil.rmtree(osp.join(out_dir, sub), ignore_errors=True)
    split_seeds = dict(zip(('train', 'val'), np.random.SeedSequence(int(seed)).spawn(2)))
    counts = {'train': num_train_snippets, 'val': num_val_snippets}
    degraded_frames: Dict[str, Dict[str, str]] = {}
    stats = {}
    for split, count in counts.items():
        rng = np.random.default_rng(split_seeds[split])
        cities = _CITIES[split]
        degraded_frames[split] = {}
        pixels = np.zeros(len(TOY_SEG_CLASSES), np.int64)
        num_degraded = 0
        for j in range(count):
            city = cities[j % len(cities)]
            local = j // len(cities)
            seq, slot = divmod(local, snippets_per_sequence)
            annotated_number = frames_before + _SNIPPET_STRIDE * slot
            degraded = bool(rng.random() < degraded_fraction)
            frames, label, kinds = _snippet(
                np.random.default_rng(rng.integers(2**63)),
                num_frames,
                frames_before,
                width,
                height,
                num_objects_range,
                size_range,
                degraded,
            )
            num_degraded += int(kinds[frames_before] is not None)
            img_dir = osp.join(out_dir, 'leftImg8bit_sequence', split, city)
            ann_dir = osp.join(out_dir, 'gtFine', split, city)
            os.makedirs(img_dir, exist_ok=True)
            os.makedirs(ann_dir, exist_ok=True)
            for idx, (frame, kind) in enumerate(zip(frames, kinds)):
                number = annotated_number - frames_before + idx
                stem = f'{city}_{seq:06d}_{number:06d}'
                cv2.imwrite(osp.join(img_dir, f'{stem}_leftImg8bit.png'), frame)
                if kind is not None:
                    degraded_frames[split][stem] = kind
            stem = f'{city}_{seq:06d}_{annotated_number:06d}'
            cv2.imwrite(osp.join(ann_dir, f'{stem}_gtFine_labelTrainIds.png'), label)
            pixels += np.bincount(label.ravel(), minlength=len(TOY_SEG_CLASSES))
        stats[split] = {
            'snippets': count,
            'frames': count * num_frames,
            'degraded_annotated': num_degraded,
            'pixels_per_class': [int(p) for p in pixels],
        }
    # written last and atomically: its presence marks a complete set
    atomic_dump_json(
        {
            'params': params,
            'classes': list(TOY_SEG_CLASSES),
            'stats': stats,
            'degraded': degraded_frames,
        },
        meta_file,
    )
    return stats

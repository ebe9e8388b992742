"""Writing the toy VID set to disk: JPEG frames, CocoVID JSON, reuse of an existing set.

Safe against concurrent and interrupted runs: one process at a time generates into a
folder (a file lock, ``<out_dir>/.make_toy_vid.lock``; a second process that starts at the
same time waits, then finds the set made and reuses it); the annotation files are removed
before any frame is rewritten and written last, atomically, so a killed run never leaves a
set that looks complete.
"""

from __future__ import annotations

import json
import os
import os.path as osp
import shutil
from typing import Dict, Tuple

import cv2
import numpy as np
from filelock import FileLock

from mmpsla.utils.atomic_io import atomic_dump_json

from ..cocovid_utils import evenly_spaced_frames, vid_statistics
from .rendering import render_video
from .shapes import TOY_CLASSES

#: Bump when the output of a given seed changes (an older set is then regenerated).
GENERATOR_VERSION = 3
#: Lock file that serialises generators writing into the same folder.
LOCK_NAME = '.make_toy_vid.lock'


def _make_split(
    out_dir: str,
    split: str,
    num_videos: int,
    rng: np.random.Generator,
    params: dict,
    progress: bool,
) -> dict:
    """Render and write the frames of one split; return its CocoVID dict.

    ``params`` holds the generator's arguments as recorded in the JSON (``num_frames``,
    ``width``, ``height``, ``num_objects_range``, ``size_range``, ``degraded_fraction``,
    ``jpeg_quality``).
    """
    num_frames, width, height = params['num_frames'], params['width'], params['height']
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
        frames = render_video(
            video_rng,
            num_frames,
            width,
            height,
            params['num_objects_range'],
            params['size_range'],
            params['degraded_fraction'],
        )
        for frame_id, frame in enumerate(frames):
            file_name = f'{split}/{video_name}/{frame_id:06d}.jpg'
            path = osp.join(out_dir, 'Data', file_name)
            quality = [cv2.IMWRITE_JPEG_QUALITY, params['jpeg_quality']]
            if not cv2.imwrite(path, frame.image, quality):
                raise OSError(f'could not write the toy frame {path} (disk full or read-only?)')
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
                    'is_degraded': frame.degradation is not None,
                    'degradation': frame.degradation,
                }
            )
            for obj_idx, obj in enumerate(frame.objects):
                if frame.visible[obj_idx] < 0.1:  # hidden: not annotated
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
                        'occluded': frame.visible[obj_idx] < 0.75,
                        'speed': obj.speed_name,
                    }
                )
            if pbar is not None:
                pbar.update(1)
        instance_offset += len(frame.objects)
    if pbar is not None:
        pbar.close()
    return {
        'categories': categories,
        'videos': videos,
        'images': images,
        'annotations': annotations,
    }


def _check_arguments(out_dir, options: dict) -> None:
    """Raise ``TypeError`` / ``ValueError`` naming the bad argument and its valid range.

    ``options`` maps :func:`make_toy_vid`'s size arguments to their values.
    """
    if not isinstance(out_dir, (str, os.PathLike)) or not str(out_dir):
        raise TypeError(f'out_dir must be a folder path, got {out_dir!r}')
    if osp.exists(out_dir) and not osp.isdir(out_dir):
        raise NotADirectoryError(f'out_dir {out_dir} is a file; pass a folder (--out)')
    for name in ('num_train_videos', 'num_val_videos', 'num_frames', 'width', 'height'):
        value = options[name]
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
            raise TypeError(f'{name} must be an int, got {value!r}')
    num_frames, width, height = options['num_frames'], options['width'], options['height']
    size_range, num_objects_range = options['size_range'], options['num_objects_range']
    degraded_fraction, jpeg_quality = options['degraded_fraction'], options['jpeg_quality']
    if num_frames < 4:
        raise ValueError(f'num_frames must be >= 4, got {num_frames}')
    if options['num_train_videos'] < 1 or options['num_val_videos'] < 1:
        raise ValueError(
            'num_train_videos and num_val_videos must be >= 1, got '
            f"{options['num_train_videos']} and {options['num_val_videos']}"
        )
    if not 0 <= degraded_fraction <= 0.6:
        raise ValueError(f'degraded_fraction must be in [0, 0.6], got {degraded_fraction}')
    if isinstance(jpeg_quality, bool) or not isinstance(jpeg_quality, (int, np.integer)):
        raise TypeError(f'jpeg_quality must be an int, got {jpeg_quality!r}')
    if not 1 <= jpeg_quality <= 100:
        raise ValueError(f'jpeg_quality must be in [1, 100], got {jpeg_quality}')
    if size_range[0] < 6 or size_range[1] < size_range[0]:
        raise ValueError(f'size_range must satisfy 6 <= low <= high, got {size_range}')
    if size_range[1] >= min(width, height):
        raise ValueError(
            f'size_range {size_range} does not fit a {width}x{height} frame: make the frame '
            'larger (width, height) or the objects smaller (size_range)'
        )
    if num_objects_range[0] < 1 or num_objects_range[1] < num_objects_range[0]:
        raise ValueError(
            f'num_objects_range must satisfy 1 <= low <= high, got {num_objects_range}'
        )


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
        jpeg_quality (int): JPEG quality of the written frames, in [1, 100].
        overwrite (bool): Regenerate even if ``out_dir`` already holds a dataset made with
            the same arguments. A dataset made with *different* arguments is only replaced
            when ``overwrite`` is True (otherwise ``FileExistsError``); one made by another
            version of this generator is outdated and regenerated.
        progress (bool): Show tqdm progress bars.

    Returns:
        dict: ``{'train': stats, 'val': stats}`` from :func:`vid_statistics`.
    """
    options = dict(
        num_train_videos=num_train_videos,
        num_val_videos=num_val_videos,
        num_frames=num_frames,
        width=width,
        height=height,
        num_objects_range=num_objects_range,
        size_range=size_range,
        degraded_fraction=degraded_fraction,
        jpeg_quality=jpeg_quality,
    )
    _check_arguments(out_dir, options)
    out_dir = str(out_dir)
    # recorded in the JSON (in this order): a later call with the same values reuses the set
    params = {'version': GENERATOR_VERSION, 'seed': int(seed)}
    for name, value in options.items():
        if name.endswith('_range'):
            params[name] = [int(v) for v in value]
        else:
            params[name] = float(value) if name == 'degraded_fraction' else int(value)
    os.makedirs(out_dir, exist_ok=True)
    with FileLock(osp.join(out_dir, LOCK_NAME)):
        return _generate_locked(out_dir, params, overwrite, progress)


def _existing_statistics(split_files: Dict[str, str], params: dict, overwrite: bool, out_dir):
    """Statistics of the set already in ``out_dir`` if it can be reused, else None."""
    if not all(osp.isfile(f) for f in split_files.values()):
        return None
    existing = [_load_json(f) for f in split_files.values()]
    found = [e.get('info', {}).get('toy_vid_params') or {} for e in existing]
    same = all(f == params for f in found)
    # made by another version of this generator: outdated, regenerate
    stale = any(f.get('version') != GENERATOR_VERSION for f in found)
    if same and not overwrite:
        return {s: vid_statistics(e) for s, e in zip(split_files, existing)}
    if not same and not stale and not overwrite:
        raise FileExistsError(
            f'{out_dir} already holds a toy dataset generated with other arguments; '
            'pass overwrite=True (--overwrite) to replace it'
        )
    return None


def _generate_locked(out_dir: str, params: dict, overwrite: bool, progress: bool) -> dict:
    """Body of :func:`make_toy_vid`, run while holding the folder's lock."""
    ann_dir = osp.join(out_dir, 'annotations')
    split_files = {s: osp.join(ann_dir, f'{s}.json') for s in ('train', 'val')}
    stats = _existing_statistics(split_files, params, overwrite, out_dir)
    if stats is not None:
        if progress:
            print(f'{out_dir}: already holds this toy dataset (overwrite=True regenerates)')
        return stats
    for ann_file in split_files.values():  # first: a half-rewritten set never looks complete
        if osp.isfile(ann_file):
            os.remove(ann_file)
    for split in split_files:
        shutil.rmtree(osp.join(out_dir, 'Data', split), ignore_errors=True)
    os.makedirs(ann_dir, exist_ok=True)
    seq = np.random.SeedSequence(params['seed'])
    split_seeds = dict(zip(split_files, seq.spawn(2)))
    num_videos = {'train': params['num_train_videos'], 'val': params['num_val_videos']}
    stats = {}
    for split, ann_file in split_files.items():
        rng = np.random.default_rng(split_seeds[split])
        coco_vid = _make_split(out_dir, split, num_videos[split], rng, params, progress)
        coco_vid['info'] = {'description': f'mmpsla toy VID ({split})', 'toy_vid_params': params}
        atomic_dump_json(coco_vid, ann_file)
        stats[split] = vid_statistics(coco_vid)
    return stats


def _load_json(path: str) -> dict:
    with open(path) as f:
        return json.load(f)

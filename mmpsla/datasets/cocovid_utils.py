"""Helpers shared by the CocoVID producers (toy generator, ILSVRC converters)."""

from __future__ import annotations

from typing import Dict, List

#: Frames per video of the DFF/FGFA/mmtrack ``is_vid_train_frame`` subset.
NUM_VID_TRAIN_FRAMES = 15


def evenly_spaced_frames(num_frames: int, num: int = NUM_VID_TRAIN_FRAMES) -> List[int]:
    """``num`` frame ids spread evenly over a video: the middle of ``num`` equal chunks.

    For a 300-frame video: 10, 30, ..., 290 (the spacing of the DFF/FGFA training
    subset); videos with at most ``num`` frames use every frame.
    """
    if num_frames <= num:
        return list(range(num_frames))
    step = num_frames / num
    return sorted({int(step * (i + 0.5)) for i in range(num)})


def vid_statistics(coco_vid: dict) -> Dict[str, float]:
    """Statistics of a CocoVID dict (ours, the toy set's or ImageNet VID's).

    Args:
        coco_vid (dict): Parsed CocoVID JSON (``videos``, ``images``, ``annotations``).

    Returns:
        dict: ``videos``, ``frames``, ``objects`` (distinct instances), ``boxes``
        (annotations), ``occluded_boxes``, ``vid_train_frames``, ``degraded_frames``,
        ``degraded_fraction`` and ``boxes_<class>`` per category.
    """
    images = coco_vid['images']
    anns = coco_vid['annotations']
    degraded = sum(bool(img.get('is_degraded', False)) for img in images)
    instances = {(a.get('video_id'), a.get('instance_id', a['id'])) for a in anns}
    stats: Dict[str, float] = {
        'videos': len(coco_vid.get('videos', [])),
        'frames': len(images),
        'objects': len(instances),
        'boxes': len(anns),
        'occluded_boxes': sum(bool(a.get('occluded', False)) for a in anns),
        'vid_train_frames': sum(bool(img.get('is_vid_train_frame', False)) for img in images),
        'degraded_frames': degraded,
        'degraded_fraction': degraded / max(len(images), 1),
    }
    names = {c['id']: c['name'] for c in coco_vid['categories']}
    for cat_id, name in names.items():
        stats[f'boxes_{name}'] = sum(a['category_id'] == cat_id for a in anns)
    return stats


def format_statistics(split_stats: Dict[str, Dict[str, float]]) -> str:
    """Format ``{split: vid_statistics(...)}`` as an aligned text table."""
    keys = list(next(iter(split_stats.values())))
    lines = ['key'.ljust(20) + ''.join(s.rjust(12) for s in split_stats)]
    for key in keys:
        cells = []
        for stats in split_stats.values():
            val = stats[key]
            cells.append(f'{val:12.3f}' if isinstance(val, float) else f'{val:12d}')
        lines.append(key.ljust(20) + ''.join(cells))
    return '\n'.join(lines)

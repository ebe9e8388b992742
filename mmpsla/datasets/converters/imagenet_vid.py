"""ImageNet VID (ILSVRC2015) to CocoVID JSON."""

from __future__ import annotations

import glob
import os
import os.path as osp
from collections import OrderedDict
from typing import Dict, List

from ..cocovid_utils import evenly_spaced_frames
from .ilsvrc_common import (
    WNID_TO_CAT,
    IssueLog,
    check_box,
    empty_ilsvrc_cocovid,
    iter_progress,
    parse_ilsvrc_xml,
    read_list,
    vid_statistics_line,
)


def list_vid_videos(root: str, split: str) -> Dict[str, List[str] | None]:
    """Videos of a split, in order: ``{video_dir: frame names or None (= all XMLs)}``.

    ``video_dir`` is relative to ``Data/VID`` (e.g. ``train/ILSVRC2015_VID_train_0000/
    ILSVRC2015_train_00000000``). Sources, in order of preference:

    - train: the union of ``ImageSets/VID/train_<k>.txt`` (lines ``<video> <label>``,
      label 1 = the video shows class k), frames = the video's XML files;
    - val: ``ImageSets/VID/val.txt`` (lines ``<video>/<frame> <index>``);
    - otherwise every directory under ``Annotations/VID/<split>`` holding XML files.
    """
    sets_dir = osp.join(root, 'ImageSets', 'VID')
    videos: Dict[str, List[str] | None] = OrderedDict()
    if split == 'train':
        lists = sorted(
            glob.glob(osp.join(sets_dir, 'train_*.txt')),
            key=lambda p: int(osp.basename(p)[6:-4]) if osp.basename(p)[6:-4].isdigit() else 0,
        )
        for path in lists:
            for tokens in read_list(path):
                if len(tokens) < 2 or tokens[1] == '1':
                    videos.setdefault(f'train/{tokens[0]}', None)
    elif osp.isfile(osp.join(sets_dir, f'{split}.txt')):
        for tokens in read_list(osp.join(sets_dir, f'{split}.txt')):
            video, frame = tokens[0].rsplit('/', 1)
            frames = videos.setdefault(f'{split}/{video}', [])
            frames.append(frame)
    if not videos:  # no ImageSets: walk the annotation tree
        ann_root = osp.join(root, 'Annotations', 'VID')
        xmls = glob.glob(osp.join(ann_root, split, '**', '*.xml'), recursive=True)
        for video in sorted({osp.relpath(osp.dirname(x), ann_root) for x in xmls}):
            videos[video] = None
    return videos


def parse_train_frame_list(path: str) -> Dict[str, List[int]]:
    """FGFA's ``VID_train_15frames.txt``: lines ``<video> 1 <frame (1-based)> <length>``."""
    frames: Dict[str, List[int]] = {}
    for tokens in read_list(path):
        video = tokens[0] if tokens[0].startswith('train/') else f'train/{tokens[0]}'
        frames.setdefault(video, []).append(int(tokens[2]) - 1)
    return frames


def convert_vid(
    root: str,
    split: str,
    train_frame_list: str | None = None,
    check_images: bool = True,
    progress: bool = True,
) -> dict:
    """Convert one split of ImageNet VID to a CocoVID dict (videos, images, annotations).

    Layout (ILSVRC2015): ``Data/VID/<split>/<video>/<frame>.JPEG``,
    ``Annotations/VID/<split>/<video>/<frame>.xml``, ``ImageSets/VID/...`` (see
    :func:`list_vid_videos`). ``file_name`` is relative to ``Data/VID``. Instance ids are
    unique over the split (one per ``(video, trackid)``); ``is_vid_train_frame`` marks, in
    train, the frames of ``train_frame_list`` (FGFA's ``VID_train_15frames.txt``) or else
    15 evenly spaced frames per video (:func:`evenly_spaced_frames`); it is False in val.

    Bad annotations: a missing XML or JPEG raises ``FileNotFoundError`` (a video must be
    complete); an unknown class raises ``ValueError``. Boxes are the XML's inclusive pixel
    corners, unchanged (:func:`~.ilsvrc_common.check_box`: one-pixel boxes kept, boxes
    reaching outside the image kept and counted, inverted boxes skipped; each kind
    reported by one ``UserWarning``), and the output declares
    ``box_convention='inclusive_pixels'`` so that ``VIDMetric`` evaluates them as the
    ImageNet VID devkit does.

    Args:
        root (str): ILSVRC2015 root (holding ``Data``, ``Annotations``, ``ImageSets``).
        split (str): ``'train'`` or ``'val'``.
        train_frame_list (str, optional): Path of ``VID_train_15frames.txt``.
        check_images (bool): Check that every JPEG exists. Defaults to True.
        progress (bool): Show a progress bar. Defaults to True.

    Returns:
        dict: CocoVID with ``box_convention``, ``categories``, ``videos``, ``images``,
        ``annotations``.
    """
    if split not in ('train', 'val'):
        raise ValueError(f"split must be 'train' or 'val', got {split!r}")
    videos = list_vid_videos(root, split)
    if not videos:
        raise FileNotFoundError(f'no ImageNet VID {split} videos found under {root}')
    listed = parse_train_frame_list(train_frame_list) if train_frame_list else None
    issues = IssueLog()
    out = empty_ilsvrc_cocovid()
    next_instance = 1
    for video_id, (video, frames) in enumerate(
        iter_progress(videos.items(), f'ImageNet VID {split}', progress, len(videos)), 1
    ):
        ann_dir = osp.join(root, 'Annotations', 'VID', video)
        if frames is None:
            frames = (
                [f[:-4] for f in os.listdir(ann_dir) if f.endswith('.xml')]
                if osp.isdir(ann_dir)
                else []
            )
        if not frames:
            raise FileNotFoundError(f'video {video}: no annotation XML in {ann_dir}')
        frames = sorted(frames)
        if split == 'train':
            train_ids = set(
                listed.get(video, []) if listed is not None else evenly_spaced_frames(len(frames))
            )
        else:
            train_ids = set()
        out['videos'].append({'id': video_id, 'name': video})
        instances: Dict[str, int] = {}
        for frame_id, frame in enumerate(frames):
            xml = osp.join(ann_dir, f'{frame}.xml')
            file_name = f'{video}/{frame}.JPEG'
            if check_images and not osp.isfile(osp.join(root, 'Data', 'VID', file_name)):
                raise FileNotFoundError(
                    f'image {file_name} of video {video} is missing under {root}/Data/VID'
                )
            width, height, objects = parse_ilsvrc_xml(xml)
            image_id = len(out['images']) + 1
            out['images'].append(
                {
                    'id': image_id,
                    'video_id': video_id,
                    'frame_id': frame_id,
                    'file_name': file_name,
                    'height': height,
                    'width': width,
                    'is_vid_train_frame': frame_id in train_ids,
                }
            )
            for obj in objects:
                if obj.wnid not in WNID_TO_CAT:
                    raise ValueError(f'{xml}: {obj.wnid!r} is not one of the 30 VID classes')
                bbox = check_box(obj.box, width, height, xml, issues)
                if bbox is None:
                    continue
                track = obj.trackid if obj.trackid is not None else f'#{len(instances)}'
                if track not in instances:
                    instances[track] = next_instance
                    next_instance += 1
                out['annotations'].append(
                    {
                        'id': len(out['annotations']) + 1,
                        'image_id': image_id,
                        'video_id': video_id,
                        'category_id': WNID_TO_CAT[obj.wnid],
                        'instance_id': instances[track],
                        'bbox': bbox,
                        'area': bbox[2] * bbox[3],
                        'iscrowd': False,
                        'occluded': obj.occluded,
                        'generated': obj.generated,
                    }
                )
    issues.emit()
    if progress:
        print(vid_statistics_line(f'ImageNet VID {split}', out))
    return out

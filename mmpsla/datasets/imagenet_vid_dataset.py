"""ImageNet VID (+ DET as one-frame videos) in CocoVID format."""

from __future__ import annotations

import os
import os.path as osp
from collections import defaultdict
from typing import Any, List

import cv2
import mmengine
import numpy as np
from mmdet.datasets import BaseVideoDataset
from mmdet.datasets.transforms import BaseFrameSample
from mmdet.registry import DATASETS
from mmengine.fileio import get_local_path
from mmengine.logging import print_log

from .vid_classes import VID_CLASSES

#: Fields every record of a CocoVID list needs (others are optional).
REQUIRED_FIELDS = {
    'images': ('id', 'file_name', 'width', 'height'),
    'annotations': ('id', 'image_id', 'category_id', 'bbox'),
    'categories': ('id', 'name'),
}
_FORMAT_HINT = (
    'CocoVID JSON is a dict with lists "videos", "images" (id, video_id, frame_id, '
    'file_name, width, height), "annotations" (id, image_id, category_id, bbox [x, y, w, h], '
    'instance_id) and "categories" (id, name); write it with '
    'tools/dataset_converters/imagenet2coco_vid.py or tools/make_toy_vid.py'
)


class FrameReadError(OSError):
    """A frame of a dataset is missing, empty or not a decodable image."""


def check_cocovid(coco_vid: Any, ann_file: str) -> None:
    """Raise ``ValueError`` naming ``ann_file`` if ``coco_vid`` is not CocoVID-shaped.

    Checks the top-level lists and the fields each record needs (:data:`REQUIRED_FIELDS`);
    the error names the list, the first bad record and the format.
    """
    if not isinstance(coco_vid, dict):
        raise ValueError(
            f'{ann_file} is not CocoVID JSON: its top level is a {type(coco_vid).__name__}, '
            f'not a dict. {_FORMAT_HINT}'
        )
    for key, fields in REQUIRED_FIELDS.items():
        records = coco_vid.get(key)
        if not isinstance(records, list):
            raise ValueError(f"{ann_file} is not CocoVID JSON: no '{key}' list. {_FORMAT_HINT}")
        for index, record in enumerate(records):
            missing = [f for f in fields if not isinstance(record, dict) or f not in record]
            if missing:
                raise ValueError(
                    f'{ann_file} is not CocoVID JSON: {key}[{index}] lacks {missing} '
                    f'(got {str(record)[:120]}). {_FORMAT_HINT}'
                )


def unreadable_image(path: str) -> str | None:
    """Why the image file ``path`` cannot be used as a frame, or None if it decodes.

    Only local paths are checked (None for URIs).
    """
    if '://' in path:
        return None
    if not osp.isfile(path):
        return 'the file does not exist'
    with open(path, 'rb') as f:
        data = f.read()
    if not data:
        return 'the file is empty (0 bytes)'
    if cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR) is None:
        return f'the file ({len(data)} bytes) is not a decodable image'
    return None


@DATASETS.register_module()
class ImagenetVIDDataset(BaseVideoDataset):
    """ImageNet VID / DET dataset from a CocoVID JSON (see :func:`check_cocovid`).

    One dataset item is one video; its ``images`` are sorted by ``frame_id`` so that a
    frame's position in the video is its temporal index. A DET image is a one-frame video
    (each DET image has its own ``video_id`` in our converter's output; images without a
    ``video_id`` also become one-frame videos). Every frame's data info carries the image
    record's fields (``frame_id``, ``is_vid_train_frame``, and on the toy set
    ``is_degraded`` / ``degradation``) and ``instances`` (``bbox`` xyxy, ``bbox_label``,
    ``instance_id``, ``ignore_flag``).

    Training (``test_mode=False``): *all* frames of a video stay in it (they are the key
    frames' candidates), and each video records ``target_frame_inds``, the positions of the
    frames that may be training targets: frames with at least one box (unless
    ``filter_cfg=dict(filter_empty_gt=False)``), at least ``filter_cfg['min_size']`` (32)
    pixels on their short side, and, with ``only_vid_train_frames=True``, flagged
    ``is_vid_train_frame`` (the 15-frames-per-video subset of DFF/FGFA/mmtrack). Videos
    without a target frame are dropped. Use :class:`~mmpsla.datasets.TargetFrameSampler`
    to iterate over the target frames (mmdet's ``TrackImgSampler`` iterates all frames).

    Test (``test_mode=True``): nothing is filtered. With ``TrackImgSampler`` each item is
    ``(video_idx, frame_idx)``; when the pipeline starts with a frame sampler (a
    ``BaseFrameSample`` subclass such as ``PSLAKeyFrameSchedule``) the pipeline receives
    the whole video's info with ``key_frame_id = frame_idx`` (so the sampler can attach
    other frames), otherwise mmdet's one-frame dict of lists.

    Args:
        only_vid_train_frames (bool): Restrict training targets to ``is_vid_train_frame``
            frames. Defaults to False.
        *args, **kwargs: See ``mmdet.datasets.BaseVideoDataset``.
    """

    METAINFO = {'classes': VID_CLASSES}

    def __init__(self, *args, only_vid_train_frames: bool = False, **kwargs) -> None:
        name = type(self).__name__
        if not isinstance(only_vid_train_frames, bool):
            raise TypeError(
                f'{name}: only_vid_train_frames must be True or False, '
                f'got {only_vid_train_frames!r}'
            )
        ann_file = kwargs.get('ann_file', args[0] if args else '')
        if not isinstance(ann_file, (str, os.PathLike)):
            raise TypeError(
                f'{name}: ann_file must be the path of a CocoVID JSON (a str, e.g. '
                f"'annotations/train.json'), got {ann_file!r}"
            )
        self.only_vid_train_frames = only_vid_train_frames
        super().__init__(*args, **kwargs)

    def load_data_list(self) -> List[dict]:
        """Load the CocoVID JSON into a list of videos (sorted frames, parsed boxes)."""
        if not self.ann_file:
            raise ValueError(f'{type(self).__name__} needs an ann_file')
        if not osp.isfile(self.ann_file) and '://' not in self.ann_file:
            raise FileNotFoundError(
                f'annotation file {self.ann_file!r} does not exist (for the toy set run '
                '`python tools/make_toy_vid.py --out data/toy_vid`; for ImageNet VID see '
                'tools/dataset_converters/imagenet2coco_vid.py)'
            )
        with get_local_path(self.ann_file, backend_args=self.backend_args) as local_path:
            try:
                coco_vid = mmengine.load(local_path, file_format='json')
            except (ValueError, UnicodeDecodeError) as err:  # JSONDecodeError is a ValueError
                raise ValueError(
                    f'{self.ann_file} is not CocoVID JSON: it does not parse as JSON ({err}). '
                    f'{_FORMAT_HINT}'
                ) from None
        check_cocovid(coco_vid, self.ann_file)
        name_to_id = {c['name']: c['id'] for c in coco_vid['categories']}
        missing = [n for n in self.metainfo['classes'] if n not in name_to_id]
        if missing:
            raise ValueError(
                f'classes {missing} are not categories of {self.ann_file} (it has '
                f'{sorted(name_to_id)[:10]}); use the dataset type made for that file, or '
                'pass metainfo=dict(classes=...) with its category names'
            )
        self.cat_ids = [name_to_id[n] for n in self.metainfo['classes']]
        self.cat2label = {cat_id: i for i, cat_id in enumerate(self.cat_ids)}
        self.cat_img_map = defaultdict(list)
        self.img_ids_with_ann = set()

        anns_per_img = defaultdict(list)
        ann_ids = set()
        for ann in coco_vid['annotations']:
            if ann['id'] in ann_ids:
                raise ValueError(f'annotation id {ann["id"]} is repeated in {self.ann_file}')
            ann_ids.add(ann['id'])
            anns_per_img[ann['image_id']].append(ann)
            self.cat_img_map[ann['category_id']].append(ann['image_id'])

        videos = {}
        next_single_id = 1_000_000_000  # images without video_id become one-frame videos
        for img in coco_vid['images']:
            img = dict(img, img_id=img['id'])
            if img.get('video_id') is None:
                next_single_id += 1
                img['video_id'] = next_single_id
                img['frame_id'] = 0
            img.setdefault('frame_id', 0)
            video = videos.setdefault(
                img['video_id'], {'video_id': img['video_id'], 'images': [], 'video_length': 0}
            )
            info = self.parse_data_info(
                {
                    'raw_img_info': img,
                    'raw_ann_info': [
                        a for a in anns_per_img[img['id']] if a['category_id'] in self.cat2label
                    ],
                }
            )
            info.setdefault('is_degraded', False)
            if info['instances']:
                self.img_ids_with_ann.add(img['id'])
            video['images'].append(info)
            video['video_length'] += 1

        listed = {v['id']: v.get('name') for v in coco_vid.get('videos', [])}
        empty = [f'{vid} ({name})' for vid, name in listed.items() if vid not in videos]
        if empty:
            raise ValueError(
                f'{self.ann_file}: {len(empty)} video(s) have no images (zero frames: no image '
                f'has their video_id), e.g. {empty[:3]}; add their frames or remove them from '
                '"videos"'
            )
        if not videos:
            raise ValueError(
                f'{self.ann_file} holds no images: its "images" list is empty; regenerate it '
                '(tools/dataset_converters/imagenet2coco_vid.py or tools/make_toy_vid.py)'
            )
        data_list = []
        for video in videos.values():
            video['images'].sort(key=lambda x: x['frame_id'])
            frame_ids = [img['frame_id'] for img in video['images']]
            if len(set(frame_ids)) != len(frame_ids):
                raise ValueError(
                    f'{self.ann_file}: video {video["video_id"]} repeats a frame_id '
                    f'({frame_ids[:10]}...)'
                )
            if listed.get(video['video_id']) is not None:
                video['video_name'] = listed[video['video_id']]
            data_list.append(video)
        return data_list

    def filter_data(self) -> List[dict]:
        """Mark training target frames (``target_frame_inds``); see the class docstring."""
        if self.test_mode:
            return self.data_list
        filter_cfg = self.filter_cfg or {}
        filter_empty = filter_cfg.get('filter_empty_gt', True)
        min_size = filter_cfg.get('min_size', 32)
        kept = []
        num_targets = 0
        for video in self.data_list:
            targets = [
                i
                for i, img in enumerate(video['images'])
                if (not filter_empty or img['instances'])
                and min(img['width'], img['height']) >= min_size
                and (not self.only_vid_train_frames or img.get('is_vid_train_frame', True))
            ]
            if targets:
                video['target_frame_inds'] = targets
                kept.append(video)
                num_targets += len(targets)
        num_frames = sum(v['video_length'] for v in self.data_list)
        print_log(
            f'{type(self).__name__}: {len(kept)}/{len(self.data_list)} videos, '
            f'{num_targets}/{num_frames} frames usable as training targets',
            'current',
        )
        if not kept:
            raise ValueError(
                f'{self.ann_file}: no video has a usable training frame '
                f'(filter_cfg={self.filter_cfg}, only_vid_train_frames='
                f'{self.only_vid_train_frames})'
            )
        return kept

    def get_target_frame_inds(self, video_idx: int) -> List[int]:
        """Positions of the training target frames of video ``video_idx``."""
        info = self.get_data_info(video_idx)
        return list(info.get('target_frame_inds', range(info['video_length'])))

    def _pipeline_samples_frames(self) -> bool:
        transforms = getattr(self.pipeline, 'transforms', [])
        return bool(transforms) and isinstance(transforms[0], BaseFrameSample)

    def prepare_data(self, idx: Any) -> Any | None:
        """Run the pipeline on video ``idx`` or frame ``(video_idx, frame_idx)``.

        Raises:
            FrameReadError: If the pipeline fails and a frame of the video is missing,
                empty or not a decodable image; the error names the file(s).
        """
        try:
            return self._run_pipeline(idx)
        except Exception as err:
            video_idx = idx[0] if isinstance(idx, tuple) else idx
            bad = [
                (img['img_path'], why)
                for img in self.get_data_info(video_idx)['images']
                if (why := unreadable_image(img['img_path'])) is not None
            ]
            if not bad:
                raise
            listed = '; '.join(f'{path}: {why}' for path, why in bad[:3])
            raise FrameReadError(
                f'{type(self).__name__} ({self.ann_file}): {len(bad)} frame(s) of video '
                f'{video_idx} cannot be read: {listed}. Restore the file(s) (re-extract or '
                're-download; for the toy set run tools/make_toy_vid.py --overwrite) '
                f'or remove them from the annotation file. ({type(err).__name__}: {err})'
            ) from err

    def _run_pipeline(self, idx: Any) -> Any | None:
        if self.test_mode and isinstance(idx, tuple) and self._pipeline_samples_frames():
            if len(idx) != 2:
                raise ValueError(f'expected (video_idx, frame_idx), got {idx}')
            video_info = self.get_data_info(idx[0])
            video_info['key_frame_id'] = int(idx[1])
            return self.pipeline(video_info)
        return super().prepare_data(idx)

"""CityScapes video snippets (``leftImg8bit_sequence`` + ``gtFine``) for mmseg."""

from __future__ import annotations

import copy
import json
import os
import os.path as osp
import re
from typing import Dict, List, Optional, Sequence

from mmengine import fileio
from mmseg.datasets import BaseSegDataset, CityscapesDataset
from mmseg.registry import DATASETS

#: ``{city}_{sequence:06d}_{frame:06d}``, the stem of every CityScapes image / label file.
CITYSCAPES_STEM = re.compile(r'^(?P<city>.+)_(?P<sequence>\d{6})_(?P<frame>\d{6})$')


def parse_cityscapes_stem(stem: str) -> Dict[str, object]:
    """``'frankfurt_000000_000294'`` -> ``{'city': 'frankfurt', 'sequence': 0, 'frame': 294}``.

    Raises:
        ValueError: ``stem`` is not ``{city}_{6 digits}_{6 digits}``.
    """
    match = CITYSCAPES_STEM.match(stem)
    if match is None:
        raise ValueError(
            f'{stem!r} is not a CityScapes file stem {{city}}_{{sequence:06d}}_{{frame:06d}}'
        )
    return {
        'city': match['city'],
        'sequence': int(match['sequence']),
        'frame': int(match['frame']),
    }


@DATASETS.register_module()
class CityscapesVideoDataset(BaseSegDataset):
    """One sample per annotated frame, with the 30-frame snippet around it.

    Layout (CityScapes' ``leftImg8bit_sequence_trainvaltest`` and ``gtFine`` packages)::

        data_root/leftImg8bit_sequence/{split}/{city}/{city}_{seq}_{frame}_leftImg8bit.png
        data_root/gtFine/{split}/{city}/{city}_{seq}_{frame}_gtFine_labelTrainIds.png

    Samples are listed from the label maps: each ``*{seg_map_suffix}`` under
    ``data_prefix['seg_map_path']`` is an annotated frame ``a``, whose number is parsed from
    its file name (``frankfurt_000000_000294`` -> 294; it is 19 only for the first snippet
    of a sequence). Its snippet is frames ``a - frames_before .. a + frames_after`` of the
    same city and sequence (CityScapes: 19 before, 10 after, 30 frames, the annotated one
    at position 19). Every snippet frame must exist (``check_frames``); a missing one
    raises ``FileNotFoundError`` naming it.

    Data info of a sample (what the frame samplers read): ``frame_paths`` (T paths),
    ``frame_ids`` (T frame numbers), ``annotated_index`` (= ``frames_before``),
    ``seg_map_path``, ``img_path`` (the annotated frame's image), ``snippet`` (its stem),
    ``city``, ``sequence``, ``frame_degradations`` (T entries, None = clean; from
    ``degraded_file``), ``label_map``, ``reduce_zero_label``, ``seg_fields``; with
    ``key_frame_offsets`` also ``key_frame_offset`` (see below).

    Args:
        frames_before (int): Snippet frames before the annotated one. Defaults to 19.
        frames_after (int): Snippet frames after it. Defaults to 10.
        key_frame_offsets (Sequence[int], optional): List every snippet once per offset,
            with ``key_frame_offset`` set: the test schedule ``SegKeyFrameSchedule(
            offset='average')`` then places the key frame that many frames before the
            annotated one (the mIoU is pooled over the offsets). Defaults to None.
        degraded_file (str, optional): JSON with ``{"degraded": {split: {stem: kind}}}``
            (the toy set's ``toy_seg_meta.json``), relative to ``data_root``; marks
            degraded frames.
        check_frames (bool): Check that every snippet frame exists. Defaults to True.
        img_suffix (str): Defaults to ``'_leftImg8bit.png'``.
        seg_map_suffix (str): Defaults to ``'_gtFine_labelTrainIds.png'``.
        **kwargs: ``BaseSegDataset`` arguments (``data_root``, ``data_prefix``,
            ``pipeline``, ``test_mode``, ...).
    """

    METAINFO = CityscapesDataset.METAINFO

    def __init__(
        self,
        frames_before: int = 19,
        frames_after: int = 10,
        key_frame_offsets: Optional[Sequence[int]] = None,
        degraded_file: Optional[str] = None,
        check_frames: bool = True,
        img_suffix: str = '_leftImg8bit.png',
        seg_map_suffix: str = '_gtFine_labelTrainIds.png',
        data_prefix: Optional[dict] = None,
        **kwargs,
    ) -> None:
        if frames_before < 0 or frames_after < 0:
            raise ValueError(
                'frames_before and frames_after must be >= 0, got '
                f'{frames_before} and {frames_after}'
            )
        self.frames_before = int(frames_before)
        self.frames_after = int(frames_after)
        self.key_frame_offsets = None if key_frame_offsets is None else list(key_frame_offsets)
        self.degraded_file = degraded_file
        self.check_frames = check_frames
        if data_prefix is None:
            data_prefix = dict(img_path='leftImg8bit_sequence/train', seg_map_path='gtFine/train')
        super().__init__(
            img_suffix=img_suffix,
            seg_map_suffix=seg_map_suffix,
            data_prefix=data_prefix,
            **kwargs,
        )

    def _degradations(self) -> Dict[str, str]:
        if self.degraded_file is None:
            return {}
        path = self.degraded_file
        if self.data_root is not None and not osp.isabs(path):
            path = osp.join(self.data_root, path)
        if not osp.isfile(path):
            raise FileNotFoundError(f'degraded_file {path} does not exist')
        with open(path) as f:
            per_split = json.load(f).get('degraded', {})
        merged: Dict[str, str] = {}
        for stems in per_split.values():
            merged.update(stems)
        return merged

    def load_data_list(self) -> List[dict]:
        """List the annotated frames and their snippets (see the class docstring)."""
        img_dir = self.data_prefix.get('img_path', '')
        ann_dir = self.data_prefix.get('seg_map_path', '')
        if not osp.isdir(ann_dir):
            raise FileNotFoundError(
                f'{type(self).__name__}: label directory {ann_dir!r} does not exist (set '
                'data_root and data_prefix.seg_map_path, e.g. gtFine/val; labels are '
                f'{{city}}/{{city}}_{{seq}}_{{frame}}{self.seg_map_suffix})'
            )
        label_files = sorted(
            fileio.list_dir_or_file(
                ann_dir, list_dir=False, suffix=self.seg_map_suffix, recursive=True
            )
        )
        if not label_files:
            raise FileNotFoundError(
                f'{type(self).__name__}: no *{self.seg_map_suffix} label maps under {ann_dir} '
                '(CityScapes labelTrainIds: run cityscapesscripts createTrainIdLabelImgs)'
            )
        degradations = self._degradations()
        listing: Dict[str, set] = {}
        data_list = []
        for rel in label_files:
            stem = osp.basename(rel)[: -len(self.seg_map_suffix)]
            try:
                info = parse_cityscapes_stem(stem)
            except ValueError as err:
                raise ValueError(f'label map {osp.join(ann_dir, rel)}: {err}') from None
            annotated = info['frame']
            first = annotated - self.frames_before
            if first < 0:
                raise ValueError(
                    f'label map {osp.join(ann_dir, rel)}: frame {annotated} has no '
                    f'{self.frames_before} frames before it (frames_before)'
                )
            city_dir = osp.join(img_dir, osp.dirname(rel))
            prefix = f'{info["city"]}_{info["sequence"]:06d}'
            frame_ids = list(range(first, annotated + self.frames_after + 1))
            names = [f'{prefix}_{i:06d}{self.img_suffix}' for i in frame_ids]
            if self.check_frames:
                if city_dir not in listing:
                    listing[city_dir] = set(os.listdir(city_dir)) if osp.isdir(city_dir) else set()
                missing = [n for n in names if n not in listing[city_dir]]
                if missing:
                    raise FileNotFoundError(
                        f'{type(self).__name__}: {len(missing)} of the {len(names)} sequence '
                        f'frames of annotated frame {stem} are missing, e.g. '
                        f'{osp.join(city_dir, missing[0])} (the snippet is frames '
                        f'{frame_ids[0]}..{frame_ids[-1]}; install leftImg8bit_sequence or '
                        'set frames_before / frames_after / check_frames)'
                    )
            data_info = dict(
                img_path=osp.join(city_dir, names[self.frames_before]),
                seg_map_path=osp.join(ann_dir, rel),
                frame_paths=[osp.join(city_dir, n) for n in names],
                frame_ids=frame_ids,
                annotated_index=self.frames_before,
                frame_degradations=[degradations.get(f'{prefix}_{i:06d}') for i in frame_ids],
                snippet=stem,
                city=info['city'],
                sequence=info['sequence'],
                label_map=self.label_map,
                reduce_zero_label=self.reduce_zero_label,
                seg_fields=[],
            )
            if self.key_frame_offsets is None:
                data_list.append(data_info)
            else:
                for offset in self.key_frame_offsets:
                    data_list.append(dict(copy.deepcopy(data_info), key_frame_offset=offset))
        return data_list

"""Shared machinery of mmpsla's video frame samplers (not registered itself)."""

from __future__ import annotations

import copy
import math
import random
from collections import defaultdict
from typing import Dict, List, Sequence, Tuple

from mmdet.datasets.transforms import BaseFrameSample

DEFAULT_VIDEO_KEYS = ('video_id', 'video_length')


class VIDFrameSampleBase(BaseFrameSample):
    """Base of the mmpsla frame samplers.

    Input: the *video-level* info of one video, as ``BaseVideoDataset`` hands it to the
    pipeline in training mode (and as :class:`~mmpsla.datasets.ImagenetVIDDataset` also
    does in test mode when the pipeline starts with a frame sampler)::

        dict(video_id=..., video_length=L, images=[frame_info_0, ..., frame_info_{L-1}],
             key_frame_id=i,             # optional: index of the target frame
             target_frame_inds=[...])    # optional: frames allowed as training targets

    ``key_frame_id`` here is mmdet's name for the *target* frame chosen by the sampler
    (``TrackImgSampler`` / :class:`~mmpsla.datasets.TargetFrameSampler`); when it is
    missing, the target is drawn uniformly from ``target_frame_inds`` (or all frames).

    Output: mmdet's per-frame lists (``img_path``, ``img_id``, ``frame_id``,
    ``instances``, ...), one entry per sampled frame, in the sampler's documented order,
    plus ``key_frame_flags`` (the target frame is flagged ``True``). As in mmdet,
    ``video_length`` of each frame becomes the number of sampled frames and
    ``ori_video_length`` keeps the true length of the video. Extra per-frame lists given
    by the subclass (e.g. ``key_frame_id``, ``is_key_frame``) are added as they are.

    Args:
        collect_video_keys (Sequence[str]): Video-level keys copied into every frame.
    """

    def __init__(self, collect_video_keys: Sequence[str] = DEFAULT_VIDEO_KEYS) -> None:
        super().__init__(collect_video_keys=list(collect_video_keys))

    @staticmethod
    def _check_video_infos(video_infos: dict, name: str) -> int:
        if 'images' not in video_infos:
            raise ValueError(
                f'{name} expects the video-level info of a whole video (a dict with '
                "'images' and 'video_length'); got keys "
                f'{sorted(video_infos)}. In test mode use a dataset that hands video-level '
                'info to the pipeline, e.g. ImagenetVIDDataset / ToyVIDDataset.'
            )
        length = int(video_infos['video_length'])
        if length < 1 or len(video_infos['images']) != length:
            raise ValueError(
                f'{name}: video {video_infos.get("video_id")} has video_length={length} '
                f'but {len(video_infos["images"])} frames'
            )
        return length

    @staticmethod
    def _target_index(video_infos: dict, length: int) -> int:
        """Index (position in ``images``) of the target frame."""
        if video_infos.get('key_frame_id') is not None:
            idx = video_infos['key_frame_id']
            if not isinstance(idx, int) or not 0 <= idx < length:
                raise ValueError(f'key_frame_id must be an int in [0, {length}), got {idx!r}')
            return idx
        candidates = video_infos.get('target_frame_inds') or list(range(length))
        return random.choice(list(candidates))

    def pack_frames(
        self,
        video_infos: dict,
        sampled_inds: Sequence[int],
        key_frame_flags: Sequence[bool],
        extra: Dict[str, List] | None = None,
    ) -> Dict[str, List]:
        """Collate the sampled frames (each frame deep-copied, so repeats are independent).

        Args:
            video_infos (dict): Video-level info.
            sampled_inds (Sequence[int]): Frame positions in the packed order.
            key_frame_flags (Sequence[bool]): Target flag of each packed frame.
            extra (dict[str, list], optional): More per-frame lists (same length).

        Returns:
            dict: Per-frame lists + ``key_frame_flags``.
        """
        frames = video_infos['images']
        out: Dict[str, List] = defaultdict(list)
        for idx in sampled_inds:
            data = copy.deepcopy(frames[idx])
            for key in self.collect_video_keys:
                if key == 'video_length':
                    data['ori_video_length'] = video_infos['video_length']
                    data['video_length'] = len(sampled_inds)
                else:
                    data[key] = video_infos[key]
            for key, value in data.items():
                out[key].append(value)
        for key, values in (extra or {}).items():
            if len(values) != len(sampled_inds):
                raise ValueError(
                    f'extra[{key!r}] has {len(values)} entries for {len(sampled_inds)} frames'
                )
            out[key] = list(values)
        out['key_frame_flags'] = list(key_frame_flags)
        return dict(out)


def clipped_randint(low: float, high: float, length: int) -> int:
    """Uniform integer in ``[ceil(low), floor(high)]`` after clipping both ends to the video.

    The interval's ends are clipped to ``[0, length - 1]``; an interval that lies wholly
    before (after) the video collapses to the first (last) frame.
    """
    lo = min(max(math.ceil(low), 0), length - 1)
    hi = min(max(math.floor(high), 0), length - 1)
    if hi < lo:  # cannot happen for low <= high, kept for safety
        lo, hi = hi, lo
    return random.randint(lo, hi)


def segment_key_frame(index: int, length: int, interval: int, mode: str) -> Tuple[int, int]:
    """Segment start and key frame position of frame ``index`` in the test schedule.

    The video of ``length`` frames is cut into segments of ``interval`` frames (the last
    one may be shorter); the key frame is the segment's middle frame
    (``start + seg_len // 2``, ``mode='middle'``) or its first frame (``mode='first'``).

    Returns:
        tuple[int, int]: ``(segment_start, key_index)``.
    """
    start = (index // interval) * interval
    seg_len = min(interval, length - start)
    key = start + seg_len // 2 if mode == 'middle' else start
    return start, key

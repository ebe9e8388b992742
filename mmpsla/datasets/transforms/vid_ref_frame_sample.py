"""Reference-frame sampler of the DFF / FGFA baselines (mmtrack-style methods)."""

from __future__ import annotations

import copy
import random
from typing import Dict, List, Optional, Sequence, Tuple, Union

from mmdet.registry import TRANSFORMS

from ...utils.frame_windows import fixed_stride_window
from .base_vid_frame_sample import DEFAULT_VIDEO_KEYS, VIDFrameSampleBase, segment_key_frame

REF_SAMPLE_METHODS = (
    'uniform',
    'bilateral_uniform',
    'test_with_fix_stride',
    'test_with_adaptive_stride',
    'test_key_frame_interval',
)


def _draw(candidates: List[int], num: int) -> List[int]:
    """``num`` distinct draws when possible, else draws with replacement."""
    if len(candidates) >= num:
        return random.sample(candidates, num)
    return [random.choice(candidates) for _ in range(num)]


@TRANSFORMS.register_module()
class VIDRefFrameSample(VIDFrameSampleBase):
    """Sample the target frame ``i`` and the reference frames of DFF / FGFA.

    Packed order, for every method: the reference frames in ascending frame order, then
    the target frame last; ``key_frame_flags = [False] * num_refs + [True]`` (so
    ``key_frames_inds == [num_refs]``, ``ref_frames_inds == [0 .. num_refs - 1]``).
    ``L`` is the video length; all positions are clipped to ``[0, L - 1]``.

    Training methods (``i`` = the sampler's target frame, or a random target):

    - ``'uniform'`` (DFF): ``num_ref_imgs`` frames drawn uniformly from
      ``[i + frame_range[0], i + frame_range[1]]`` (without ``i`` when
      ``filter_key_img``), without replacement when there are enough frames.
    - ``'bilateral_uniform'`` (FGFA): ``num_ref_imgs // 2`` frames from
      ``[i + frame_range[0], i - 1]`` and as many from ``[i + 1, i + frame_range[1]]``;
      a side that is empty (video border) is replaced by the other side, a one-frame video
      repeats ``i``.

    Test methods (frames arrive one by one in order, ``i`` = current frame):

    - ``'test_with_fix_stride'`` (FGFA): the aggregation window of frame ``i`` is
      ``W(i) = [clip(i + j * stride) for j in frame_range[0] .. frame_range[1]]``
      (``2 R + 1`` entries with repeats at the borders). To let the model cache features
      instead of recomputing them, only frames not seen before are attached:
      at ``i == 0`` the refs are ``0, 1, ..., min(frame_range[1] * stride, L - 1)``
      (every frame, so all later windows can be served from the cache);
      at ``i > 0`` the single ref is ``min(i + frame_range[1] * stride, L - 1)`` (the frame
      entering the window; at the end of the video it is the last frame again). Each
      packed frame's metainfo gets ``frame_stride`` and ``num_left_ref_imgs``
      (``-frame_range[0]``) and ``num_right_ref_imgs`` (``frame_range[1]``), to be
      packed with ``PackTrackInputs(meta_keys=(...))``: the description of the window
      the detectors read (they aggregate exactly :meth:`window`, see
      :mod:`mmpsla.utils.frame_windows`; the window is defined in that one place).
    - ``'test_with_adaptive_stride'`` (SELSA, TRoI Align): at ``i == 0`` the refs are
      ``num_ref_imgs`` frames evenly spaced over the whole video,
      ``round(j * (L - 1) / (num_ref_imgs - 1))`` for ``j = 0 .. num_ref_imgs - 1``
      (frame 0 alone when ``num_ref_imgs == 1``; repeats in videos shorter than
      ``num_ref_imgs``); later frames get no ref (the model keeps the first frame's).
    - ``'test_key_frame_interval'`` (DFF): no reference frame; the current frame alone,
      with metainfo ``is_key_frame`` (``i % key_frame_interval == 0``, the first frame of
      each segment, no look-ahead) and ``key_frame_id`` (``frame_id`` of the segment's
      first frame) -- the same as ``PSLAKeyFrameSchedule(mode='first')``.

    Args:
        method (str): One of :data:`REF_SAMPLE_METHODS`. Defaults to ``'uniform'``.
        num_ref_imgs (int): Number of reference frames of the training methods and of
            'test_with_adaptive_stride'.
        frame_range (int | list[int]): ``[low, high]`` offsets (``low <= 0 <= high``);
            an int ``r`` means ``[-r, r]``. Defaults to 9.
        stride (int): Frame stride of ``'test_with_fix_stride'``. Defaults to 1.
        filter_key_img (bool): Exclude the target from ``'uniform'`` draws.
        key_frame_interval (int): For ``'test_key_frame_interval'``. Defaults to 10.
        collect_video_keys (Sequence[str]): Video-level keys copied into each frame.
    """

    def __init__(
        self,
        method: str = 'uniform',
        num_ref_imgs: int = 1,
        frame_range: Union[int, Sequence[int]] = 9,
        stride: int = 1,
        filter_key_img: bool = True,
        key_frame_interval: int = 10,
        collect_video_keys: Sequence[str] = DEFAULT_VIDEO_KEYS,
    ) -> None:
        if method not in REF_SAMPLE_METHODS:
            raise ValueError(f'method must be one of {REF_SAMPLE_METHODS}, got {method!r}')
        if isinstance(frame_range, int):
            frame_range = [-frame_range, frame_range]
        frame_range = [int(v) for v in frame_range]
        if len(frame_range) != 2 or not frame_range[0] <= 0 <= frame_range[1]:
            raise ValueError(f'frame_range must be [low <= 0, high >= 0], got {frame_range}')
        if not isinstance(num_ref_imgs, int) or num_ref_imgs < 1:
            raise ValueError(f'num_ref_imgs must be an int >= 1, got {num_ref_imgs!r}')
        if method == 'bilateral_uniform' and num_ref_imgs % 2:
            raise ValueError(
                f"num_ref_imgs must be even for 'bilateral_uniform', got {num_ref_imgs}"
            )
        if not isinstance(stride, int) or stride < 1:
            raise ValueError(f'stride must be an int >= 1, got {stride!r}')
        if not isinstance(key_frame_interval, int) or key_frame_interval < 1:
            raise ValueError(f'key_frame_interval must be an int >= 1, got {key_frame_interval!r}')
        self.method = method
        self.num_ref_imgs = num_ref_imgs
        self.frame_range = frame_range
        self.stride = stride
        self.filter_key_img = filter_key_img
        self.key_frame_interval = key_frame_interval
        super().__init__(collect_video_keys=collect_video_keys)

    def sample_refs(self, index: int, length: int) -> List[int]:
        """Reference positions (ascending) for target ``index``; see the class docstring."""
        low, high = self.frame_range
        if self.method == 'uniform':
            cands = list(range(max(0, index + low), min(length - 1, index + high) + 1))
            if self.filter_key_img and len(cands) > 1:
                cands.remove(index)
            return sorted(_draw(cands, self.num_ref_imgs))
        if self.method == 'bilateral_uniform':
            half = self.num_ref_imgs // 2
            left = list(range(max(0, index + low), index))
            right = list(range(index + 1, min(length - 1, index + high) + 1))
            left, right = left or right, right or left
            if not left:  # one-frame video
                return [index] * self.num_ref_imgs
            return sorted(_draw(left, half) + _draw(right, half))
        if self.method == 'test_with_fix_stride':
            last = self.window(index, length)[-1]  # the frame entering the window
            return list(range(0, last + 1)) if index == 0 else [last]
        if self.method == 'test_with_adaptive_stride':
            if index != 0:
                return []
            if self.num_ref_imgs == 1:
                return [0]
            step = (length - 1) / (self.num_ref_imgs - 1)
            return [round(j * step) for j in range(self.num_ref_imgs)]
        return []  # test_key_frame_interval

    def transform(self, video_infos: dict) -> Dict[str, List]:
        """Sample ``refs + [target]``; see the class docstring."""
        length = self._check_video_infos(video_infos, type(self).__name__)
        index = self._target_index(video_infos, length)
        refs = self.sample_refs(index, length)
        inds = refs + [index]
        flags = [False] * len(refs) + [True]
        extra = {}
        n = len(inds)
        if self.method == 'test_with_fix_stride':
            extra = {
                'frame_stride': [self.stride] * n,
                'num_left_ref_imgs': [-self.frame_range[0]] * n,
                'num_right_ref_imgs': [self.frame_range[1]] * n,
            }
        elif self.method == 'test_key_frame_interval':
            _, key = segment_key_frame(index, length, self.key_frame_interval, 'first')
            extra = {
                'key_frame_id': [video_infos['images'][key]['frame_id']],
                'is_key_frame': [key == index],
            }
        return self.pack_frames(video_infos, inds, flags, extra)

    def window(self, index: int, length: int) -> Tuple[int, ...]:
        """FGFA aggregation window ``W(index)`` of ``'test_with_fix_stride'`` (positions):
        :func:`~mmpsla.utils.frame_windows.fixed_stride_window`, which the detectors
        evaluate on the description this sampler packs."""
        low, high = self.frame_range
        return tuple(fixed_stride_window(index, length, -low, high, self.stride))

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(method='{self.method}', num_ref_imgs={self.num_ref_imgs}, "
            f'frame_range={self.frame_range}, stride={self.stride}, '
            f'filter_key_img={self.filter_key_img}, '
            f'key_frame_interval={self.key_frame_interval}, '
            f'collect_video_keys={self.collect_video_keys})'
        )


def ref_img_sampler_to_transform(ref_img_sampler: Optional[dict]) -> Optional[dict]:
    """The ``VIDRefFrameSample`` config doing what mmtrack's ``ref_img_sampler`` does.

    mmtrack 1.x samples reference frames inside the dataset; mmpsla (like mmdet 3.x) does
    it with a frame-sampling transform at the head of the pipeline. The arguments carry
    over (``num_ref_imgs``, ``frame_range``, ``filter_key_img``, ``stride``, ``method``);
    for the test methods mmtrack sets ``num_ref_imgs = frame_range[1] - frame_range[0]``,
    and so does this translation.

    Args:
        ref_img_sampler (dict | None): mmtrack's dataset argument.

    Returns:
        dict | None: a transform config, None for None.
    """
    if ref_img_sampler is None:
        return None
    cfg = dict(copy.deepcopy(ref_img_sampler))
    method = cfg.pop('method', 'uniform')
    if method not in REF_SAMPLE_METHODS:
        raise ValueError(
            f'ref_img_sampler.method must be one of {REF_SAMPLE_METHODS}, got {method!r}'
        )
    unknown = set(cfg) - {'num_ref_imgs', 'frame_range', 'filter_key_img', 'stride'}
    if unknown:
        raise ValueError(f'ref_img_sampler: unknown keys {sorted(unknown)}')
    frame_range = cfg.get('frame_range', 1)
    if isinstance(frame_range, int):
        frame_range = [-frame_range, frame_range]
    cfg['frame_range'] = list(frame_range)
    if method.startswith('test'):
        cfg['num_ref_imgs'] = max(1, frame_range[1] - frame_range[0])
    return dict(type='VIDRefFrameSample', method=method, **cfg)

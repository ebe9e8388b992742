"""Test-time key-frame schedule of PSLA: l-frame segments, one key frame each (paper §3)."""

from __future__ import annotations

from typing import Dict, List, Sequence

from mmdet.registry import TRANSFORMS

from .base_vid_frame_sample import DEFAULT_VIDEO_KEYS, VIDFrameSampleBase, segment_key_frame

KEY_FRAME_MODES = ('middle', 'first')


@TRANSFORMS.register_module()
class PSLAKeyFrameSchedule(VIDFrameSampleBase):
    """Attach the key frame a streaming PSLA detector needs at each test step.

    The test sampler (``TrackImgSampler``) feeds the frames of a video one by one, in
    order; the dataset hands this transform the video-level info with ``key_frame_id``
    set to the current frame's position ``i``. The video of ``L`` frames is cut into
    segments of ``l = key_frame_interval`` frames (the last one may be shorter; ``l > L``
    gives one segment). The key frame of a segment starting at ``s`` with ``m`` frames is

    - ``mode='middle'`` (the paper's test schedule): ``s + m // 2``;
    - ``mode='first'`` (streaming, no look-ahead): ``s``.

    Packed output:

    - ``i`` is the first frame of its segment and its key frame lies ahead of it
      (``mode='middle'``, ``m >= 2``): 2 frames ``[key, current]``,
      ``key_frame_flags = [False, True]``;
    - otherwise: 1 frame ``[current]``, ``key_frame_flags = [True]``.

    Every packed frame carries (per-frame lists, packed into ``DetDataSample.metainfo`` by
    ``PackTrackInputs(meta_keys=('key_frame_id', 'is_key_frame'))``):

    - ``key_frame_id``: ``frame_id`` of the segment's key frame;
    - ``is_key_frame``: whether that frame is its segment's key frame (``True`` for the
      attached key frame itself).

    Example (``L = 7, l = 3, mode='middle'``; segments ``[0,1,2] [3,4,5] [6]``; keys 1, 4, 6)::

        i=0 -> [1, 0]  key_frame_id=[1, 1] is_key_frame=[True, False]
        i=1 -> [1]     key_frame_id=[1]    is_key_frame=[True]   (reuse the cached result)
        i=2 -> [2]     key_frame_id=[1]    is_key_frame=[False]
        i=3 -> [4, 3]  ...; i=6 -> [6]  key_frame_id=[6] is_key_frame=[True]

    Args:
        key_frame_interval (int): ``l``. Defaults to 10.
        mode (str): ``'middle'`` or ``'first'``. Defaults to ``'middle'``.
        collect_video_keys (Sequence[str]): Video-level keys copied into each frame.
    """

    def __init__(
        self,
        key_frame_interval: int = 10,
        mode: str = 'middle',
        collect_video_keys: Sequence[str] = DEFAULT_VIDEO_KEYS,
    ) -> None:
        if not isinstance(key_frame_interval, int) or key_frame_interval < 1:
            raise ValueError(f'key_frame_interval must be an int >= 1, got {key_frame_interval!r}')
        if mode not in KEY_FRAME_MODES:
            raise ValueError(f'mode must be one of {KEY_FRAME_MODES}, got {mode!r}')
        self.key_frame_interval = key_frame_interval
        self.mode = mode
        super().__init__(collect_video_keys=collect_video_keys)

    def schedule(self, index: int, length: int) -> List[int]:
        """Packed frame positions for current frame ``index`` (key first when attached)."""
        start, key = segment_key_frame(index, length, self.key_frame_interval, self.mode)
        if index == start and key > index:
            return [key, index]
        return [index]

    def transform(self, video_infos: dict) -> Dict[str, List]:
        """Pack the current frame (and its key frame when due); see the class docstring."""
        length = self._check_video_infos(video_infos, type(self).__name__)
        current = self._target_index(video_infos, length)
        inds = self.schedule(current, length)
        _, key = segment_key_frame(current, length, self.key_frame_interval, self.mode)
        key_frame_id = video_infos['images'][key]['frame_id']
        extra = {
            'key_frame_id': [key_frame_id] * len(inds),
            'is_key_frame': [idx == key for idx in inds],
        }
        flags = [False] * (len(inds) - 1) + [True]
        return self.pack_frames(video_infos, inds, flags, extra)

    def __repr__(self) -> str:
        return (
            f'{type(self).__name__}(key_frame_interval={self.key_frame_interval}, '
            f"mode='{self.mode}', collect_video_keys={self.collect_video_keys})"
        )

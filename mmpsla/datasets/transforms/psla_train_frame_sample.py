"""PSLA training-sample frame sampler: frames [k1, k2, n] of paper §4.1."""

from __future__ import annotations

from typing import Dict, List, Sequence

from mmdet.registry import TRANSFORMS

from .base_vid_frame_sample import DEFAULT_VIDEO_KEYS, VIDFrameSampleBase, clipped_randint


@TRANSFORMS.register_module()
class PSLATrainFrameSample(VIDFrameSampleBase):
    """Sample the three frames of one PSLA training sample: ``[k1, k2, n]``.

    ``n`` is the labelled non-key frame (the target: ``key_frame_id`` from the sampler,
    else a uniform draw from the video's ``target_frame_inds`` / all frames). With the key
    frame interval ``l``, the two key frames are drawn uniformly (integers) from

    - ``k1`` in ``[n - l, n - 0.5 l]``,
    - ``k2`` in ``[n - 0.5 l, n + 0.5 l]``,

    each interval clipped to the video ``[0, L - 1]`` (an interval that lies wholly before
    the video collapses to frame 0). A still image (``video_length == 1``, e.g. an ImageNet
    DET image) gives the same frame three times.

    Packed order (what ``PackTrackInputs`` and the model see)::

        index 0: k1   key_frame_flags False  (ref_frames_inds[0])
        index 1: k2   key_frame_flags False  (ref_frames_inds[1])
        index 2: n    key_frame_flags True   (key_frames_inds == [2], the only loss frame)

    Note the mmdet naming: ``key_frame_flags`` marks the *target* frame, which in PSLA's
    terms is the non-key frame ``n``.

    Args:
        key_frame_interval (int): ``l``, the key frame interval. Defaults to 10.
        collect_video_keys (Sequence[str]): Video-level keys copied into each frame.
    """

    def __init__(
        self, key_frame_interval: int = 10, collect_video_keys: Sequence[str] = DEFAULT_VIDEO_KEYS
    ) -> None:
        if not isinstance(key_frame_interval, int) or key_frame_interval < 1:
            raise ValueError(f'key_frame_interval must be an int >= 1, got {key_frame_interval!r}')
        self.key_frame_interval = key_frame_interval
        super().__init__(collect_video_keys=collect_video_keys)

    def sample_indices(self, target: int, length: int) -> List[int]:
        """Frame positions ``[k1, k2, n]`` for target ``n`` in a video of ``length``."""
        if length == 1:
            return [target, target, target]
        l = self.key_frame_interval  # noqa: E741
        k1 = clipped_randint(target - l, target - 0.5 * l, length)
        k2 = clipped_randint(target - 0.5 * l, target + 0.5 * l, length)
        return [k1, k2, target]

    def transform(self, video_infos: dict) -> Dict[str, List]:
        """Sample ``[k1, k2, n]`` from one video's info; see the class docstring."""
        length = self._check_video_infos(video_infos, type(self).__name__)
        target = self._target_index(video_infos, length)
        inds = self.sample_indices(target, length)
        return self.pack_frames(video_infos, inds, [False, False, True])

    def __repr__(self) -> str:
        return (
            f'{type(self).__name__}(key_frame_interval={self.key_frame_interval}, '
            f'collect_video_keys={self.collect_video_keys})'
        )

"""Frame samplers, loading and packing of CityScapes-style video clips (mmseg registry).

A pipeline for :class:`~mmpsla.datasets.CityscapesVideoDataset` starts with a frame sampler
that turns the snippet-level info into *per-frame lists* (frame 0 = the annotated frame,
then its key frames in processing order), so mmcv's ``TransformBroadcaster`` can apply the
usual mmseg transforms to every frame; ``share_random_params=True`` gives all frames of a
sample the same random resize / crop / flip. The crop is drawn on frame 0, the one with
the label map, so ``RandomCrop(cat_max_ratio=...)`` works. ``PackSegClipInputs`` stacks the
frames into one (T, 3, H, W) tensor and packs the annotated frame's ``SegDataSample``.
"""

from __future__ import annotations

import math
from typing import Dict, List, Optional, Sequence, Union

import numpy as np
import torch
from mmcv.transforms import BaseTransform
from mmseg.datasets.transforms import LoadAnnotations, PackSegInputs
from mmseg.registry import TRANSFORMS

from .transforms.base_vid_frame_sample import clipped_randint, segment_key_frame

#: Snippet-level keys turned into per-frame lists by the samplers (not broadcast).
_SNIPPET_LIST_KEYS = ('frame_paths', 'frame_ids', 'frame_degradations')
#: Keys the samplers drop from the per-frame output.
_DROPPED_KEYS = ('img_path', 'seg_map_path', 'seg_fields') + _SNIPPET_LIST_KEYS


class _SegClipSampleBase(BaseTransform):
    """Packs snippet positions into per-frame lists (not registered)."""

    @staticmethod
    def _check(results: dict, name: str) -> int:
        missing = [k for k in ('frame_paths', 'frame_ids', 'annotated_index') if k not in results]
        if missing:
            raise KeyError(
                f'{name} needs the snippet-level info of CityscapesVideoDataset; missing '
                f'{missing} (it must be the first transform of the pipeline)'
            )
        return len(results['frame_paths'])

    @staticmethod
    def pack(results: dict, positions: Sequence[int], is_key: Sequence[bool]) -> dict:
        """Per-frame lists for the snippet ``positions`` (position 0 = annotated frame).

        Every frame gets ``img_path``, ``seg_map_path`` (None except frame 0),
        ``seg_fields`` (a fresh list), ``frame_id``, ``frame_index`` (position in the
        snippet), ``is_key_frame``, ``is_degraded``, ``degradation`` and the snippet-level
        keys (``snippet``, ``reduce_zero_label``, ...).
        """
        paths = results['frame_paths']
        degradations = results.get('frame_degradations') or [None] * len(paths)
        out: Dict[str, List] = {}
        shared = {k: v for k, v in results.items() if k not in _DROPPED_KEYS}
        for i, pos in enumerate(positions):
            frame = dict(
                shared,
                img_path=paths[pos],
                seg_map_path=results['seg_map_path'] if i == 0 else None,
                seg_fields=[],
                frame_id=results['frame_ids'][pos],
                frame_index=pos,
                is_key_frame=bool(is_key[i]),
                is_degraded=degradations[pos] is not None,
                degradation=degradations[pos],
            )
            for key, value in frame.items():
                out.setdefault(key, []).append(value)
        return out


@TRANSFORMS.register_module()
class SegClipFrameSample(_SegClipSampleBase):
    """Training clip around the annotated frame n (paper §4.1, as for detection).

    With the key frame interval ``l``:

    * ``num_key_frames=2`` (PSLA with RFU): ``[n, k1, k2]``, k1 uniform in
      ``[n - l, n - 0.5 l]``, k2 uniform in ``[n - 0.5 l, n + 0.5 l]``;
    * ``num_key_frames=1`` (PSLA (a), DFF): ``[n, k]``, k uniform in
      ``[n - 0.5 l, n + 0.5 l]`` (the nearest key frame of the middle schedule);
    * ``num_key_frames=0`` (frame baseline): ``[n]``.

    Intervals are clipped to the snippet (an interval wholly outside collapses to its
    first / last frame). Frame 0 carries the label; ``is_key_frame`` is
    ``[False, True, ...]``.

    Args:
        key_frame_interval (int): ``l``. Defaults to 5.
        num_key_frames (int): 0, 1 or 2. Defaults to 2.
    """

    def __init__(self, key_frame_interval: int = 5, num_key_frames: int = 2) -> None:
        if not isinstance(key_frame_interval, int) or key_frame_interval < 1:
            raise ValueError(f'key_frame_interval must be an int >= 1, got {key_frame_interval!r}')
        if num_key_frames not in (0, 1, 2):
            raise ValueError(f'num_key_frames must be 0, 1 or 2, got {num_key_frames!r}')
        self.key_frame_interval = key_frame_interval
        self.num_key_frames = num_key_frames

    def sample_positions(self, n: int, length: int) -> List[int]:
        """Snippet positions ``[n, (k1,) (k2)]`` for annotated position ``n``."""
        l = self.key_frame_interval  # noqa: E741
        near = clipped_randint(n - 0.5 * l, n + 0.5 * l, length)
        if self.num_key_frames == 0:
            return [n]
        if self.num_key_frames == 1:
            return [n, near]
        return [n, clipped_randint(n - l, n - 0.5 * l, length), near]

    def transform(self, results: dict) -> dict:
        """Sample the clip; see the class docstring."""
        length = self._check(results, type(self).__name__)
        positions = self.sample_positions(int(results['annotated_index']), length)
        return self.pack(results, positions, [False] + [True] * (len(positions) - 1))

    def __repr__(self) -> str:
        return (
            f'{type(self).__name__}(key_frame_interval={self.key_frame_interval}, '
            f'num_key_frames={self.num_key_frames})'
        )


OFFSET_MODES = ('middle', 'worst', 'average')


@TRANSFORMS.register_module()
class SegKeyFrameSchedule(_SegClipSampleBase):
    """Test clip: the annotated frame n and the key frames a stream would have run.

    The key frame interval is ``l``; the annotated frame's key frame k is chosen by
    ``offset`` (the literature uses all three; n = k + offset):

    * ``'middle'`` (default; PSLA's fixed test schedule, §4 of the paper, which is what its
      Table 6 numbers most plausibly follow -- §4.4 does not say, and the supplement with
      the details is not available): the snippet is cut into segments of l frames from its
      first frame, each segment's key frame is its middle frame, and k is the key frame of
      n's segment. For CityScapes (n at position 19) and l = 5: k = 17, offset 2; l = 10:
      k = 15, offset 4.
    * ``'worst'``: offset ``l - 1`` (the key frame furthest before n).
    * an int o: offset o (negative: the key frame lies ahead of n).
    * ``'average'``: the offset of the sample, ``key_frame_offset``, which
      ``CityscapesVideoDataset(key_frame_offsets=range(l))`` sets (each snippet listed once
      per offset, so the mIoU is pooled over all offsets).

    k is clipped to the snippet (at its borders the effective offset is smaller; it is
    reported as ``key_frame_offset``). The earlier key frames of the same schedule
    (k - l, k - 2l, ... for fixed offsets; the earlier segments' middles for ``'middle'``),
    from the snippet's first frame on, are the stream's history: RFU folds them into F_t.
    ``max_key_frames`` keeps only the last ones (None: all; 1: k only, as DFF needs;
    0: none, the frame baseline).

    Output clip: ``[n, k_1, ..., k_m]`` (key frames in processing order) with
    ``is_key_frame = [n == k, True, ...]``; when n is its own key frame (offset 0) it is
    not repeated among the key frames.

    Args:
        key_frame_interval (int): ``l``. Defaults to 5.
        offset (str | int): ``'middle'``, ``'worst'``, ``'average'`` or an int.
        max_key_frames (int, optional): Defaults to None (all).
    """

    def __init__(
        self,
        key_frame_interval: int = 5,
        offset: Union[str, int] = 'middle',
        max_key_frames: Optional[int] = None,
    ) -> None:
        if not isinstance(key_frame_interval, int) or key_frame_interval < 1:
            raise ValueError(f'key_frame_interval must be an int >= 1, got {key_frame_interval!r}')
        if not (isinstance(offset, int) or offset in OFFSET_MODES):
            raise ValueError(f'offset must be an int or one of {OFFSET_MODES}, got {offset!r}')
        if max_key_frames is not None and max_key_frames < 0:
            raise ValueError(f'max_key_frames must be None or >= 0, got {max_key_frames!r}')
        self.key_frame_interval = key_frame_interval
        self.offset = offset
        self.max_key_frames = max_key_frames

    def key_frames(self, n: int, length: int, offset: Union[str, int]) -> List[int]:
        """Key-frame positions up to n's key frame (last), ascending.

        Args:
            n (int): Position of the annotated frame in the snippet.
            length (int): Snippet length.
            offset (str | int): ``'middle'``, ``'worst'`` or an int.
        """
        l = self.key_frame_interval  # noqa: E741
        if offset == 'middle':
            start, _ = segment_key_frame(n, length, l, 'middle')
            return [segment_key_frame(s, length, l, 'middle')[1] for s in range(0, start + 1, l)]
        if offset == 'worst':
            offset = l - 1
        key = min(max(n - int(offset), 0), length - 1)
        first = key - l * math.floor(key / l)
        return list(range(first, key + 1, l))

    def transform(self, results: dict) -> dict:
        """Pack the test clip; see the class docstring."""
        length = self._check(results, type(self).__name__)
        n = int(results['annotated_index'])
        offset = self.offset
        if offset == 'average':
            if results.get('key_frame_offset') is None:
                raise KeyError(
                    "SegKeyFrameSchedule(offset='average') needs the dataset to list every "
                    "snippet once per offset: set the dataset's key_frame_offsets, e.g. "
                    f'key_frame_offsets=list(range({self.key_frame_interval}))'
                )
            offset = int(results['key_frame_offset'])
        keys = self.key_frames(n, length, offset)
        effective = n - keys[-1]
        n_is_key = keys[-1] == n
        if n_is_key:
            keys = keys[:-1]
        if self.max_key_frames is not None:
            keys = keys[len(keys) - min(self.max_key_frames, len(keys)) :]
        results = dict(results, key_frame_offset=effective)
        return self.pack(results, [n] + keys, [n_is_key] + [True] * len(keys))

    def __repr__(self) -> str:
        return (
            f'{type(self).__name__}(key_frame_interval={self.key_frame_interval}, '
            f'offset={self.offset!r}, max_key_frames={self.max_key_frames})'
        )


@TRANSFORMS.register_module()
class LoadClipAnnotations(LoadAnnotations):
    """mmseg's ``LoadAnnotations`` for one frame of a clip (after ``LoadImageFromFile``).

    Frames without a label map (``seg_map_path`` None: the key frames) get a placeholder
    ``gt_seg_map`` of the image's size filled with ``ignore_index``, so that every frame
    goes through the same resize / crop / flip code and ``TransformBroadcaster`` can
    collate frames with identical keys. ``PackSegClipInputs`` keeps frame 0's map only.

    Args:
        ignore_index (int): Value of the placeholder map. Defaults to 255.
        **kwargs: ``LoadAnnotations`` arguments.
    """

    def __init__(self, ignore_index: int = 255, **kwargs) -> None:
        super().__init__(**kwargs)
        self.ignore_index = ignore_index

    def transform(self, results: dict) -> dict:
        if results.get('seg_map_path') is not None:
            return super().transform(results)
        if 'img' not in results:
            raise KeyError('LoadClipAnnotations must come after LoadImageFromFile')
        results['gt_seg_map'] = np.full(results['img'].shape[:2], self.ignore_index, np.uint8)
        results.setdefault('seg_fields', []).append('gt_seg_map')
        return results


@TRANSFORMS.register_module()
class PackSegClipInputs(PackSegInputs):
    """Pack a clip: ``inputs`` (T, 3, H, W) and the annotated frame's ``SegDataSample``.

    Frame 0's results are packed by mmseg's ``PackSegInputs`` (label map, ``meta_keys``);
    ``clip_keys`` are stored in the metainfo as lists over the T frames.

    Args:
        meta_keys (Sequence[str]): Frame 0's metainfo keys (mmseg's default plus
            ``snippet``, ``is_degraded``, ``degradation``, ``key_frame_offset``).
        clip_keys (Sequence[str]): Per-frame lists kept in the metainfo; defaults to
            ``is_key_frame`` (the models need it) and ``frame_id`` (frame numbers; the
            annotated frame's is the first).
    """

    def __init__(
        self,
        meta_keys: Sequence[str] = (
            'img_path',
            'seg_map_path',
            'ori_shape',
            'img_shape',
            'pad_shape',
            'scale_factor',
            'flip',
            'flip_direction',
            'reduce_zero_label',
            'snippet',
            'is_degraded',
            'degradation',
            'key_frame_offset',
        ),
        clip_keys: Sequence[str] = ('is_key_frame', 'frame_id'),
    ) -> None:
        super().__init__(meta_keys=meta_keys)
        self.clip_keys = tuple(clip_keys)

    def transform(self, results: dict) -> dict:
        """Per-frame lists (from ``TransformBroadcaster``) -> packed clip."""
        imgs = results.get('img')
        if not isinstance(imgs, list) or not imgs:
            raise ValueError(
                'PackSegClipInputs expects per-frame lists (a frame sampler and '
                'TransformBroadcaster before it)'
            )
        shapes = {np.asarray(img).shape for img in imgs}
        if len(shapes) != 1:
            raise ValueError(f'the frames of a clip have different shapes {sorted(shapes)}')
        frame0 = {key: values[0] for key, values in results.items() if isinstance(values, list)}
        packed = super().transform(frame0)
        frames = [packed['inputs']]
        frames += [
            super(PackSegClipInputs, self).transform({'img': img})['inputs'] for img in imgs[1:]
        ]
        packed['inputs'] = torch.stack(frames)
        packed['data_samples'].set_metainfo(
            {key: list(results[key]) for key in self.clip_keys if key in results}
        )
        return packed

    def __repr__(self) -> str:
        return f'{type(self).__name__}(meta_keys={self.meta_keys}, clip_keys={self.clip_keys})'

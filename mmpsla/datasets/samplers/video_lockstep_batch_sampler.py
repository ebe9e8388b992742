"""Test-time batch sampler that steps B videos in lockstep (batched video inference)."""

from __future__ import annotations

from typing import Iterator, List, Tuple

from mmdet.registry import DATA_SAMPLERS
from torch.utils.data import BatchSampler, Sampler


@DATA_SAMPLERS.register_module()
class VideoLockstepBatchSampler(BatchSampler):
    """Batches of one frame from each of up to B videos, each video's frames in order.

    The wrapped sampler (``TrackImgSampler`` in test mode) lists ``(video, frame)`` pairs,
    a video's frames in order, videos one after another (this rank's share in distributed
    testing). This batch sampler gives each of ``batch_size`` slots a video; step k yields
    the next frame of every slot, and a slot whose video has ended takes the next waiting
    video from its frame 0. Every frame appears exactly once; the last batches are
    smaller when fewer videos remain. A stateful video detector thus sees B streams, one
    frame of each per batch, as it would see one stream at batch size 1.

    Config::

        test_dataloader = dict(
            batch_size=4,
            sampler=dict(type='TrackImgSampler'),
            batch_sampler=dict(type='VideoLockstepBatchSampler'))

    Args:
        sampler (Sampler): yields ``(video_index, frame_index)`` pairs (Runner-filled).
        batch_size (int): B, the number of slots (Runner-filled from
            ``test_dataloader.batch_size``).
        drop_last (bool): must be False (every test frame is predicted).
    """

    def __init__(self, sampler: Sampler, batch_size: int, drop_last: bool = False) -> None:
        if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size < 1:
            raise ValueError(
                f'VideoLockstepBatchSampler: batch_size must be an int >= 1, got {batch_size!r}'
            )
        if drop_last:
            raise ValueError('VideoLockstepBatchSampler: drop_last=True would skip test frames')
        super().__init__(sampler, batch_size, drop_last=False)

    def _videos(self) -> List[List[Tuple[int, int]]]:
        """The sampler's pairs grouped by video, order kept."""
        videos: List[List[Tuple[int, int]]] = []
        for item in self.sampler:
            if not isinstance(item, (tuple, list)) or len(item) != 2:
                raise ValueError(
                    'VideoLockstepBatchSampler wraps a sampler of (video, frame) pairs '
                    f"(sampler=dict(type='TrackImgSampler')), got the item {item!r}"
                )
            if videos and videos[-1][-1][0] == item[0]:
                videos[-1].append(tuple(item))
            else:
                videos.append([tuple(item)])
        return videos

    def __iter__(self) -> Iterator[List[Tuple[int, int]]]:
        waiting = self._videos()[::-1]
        slots: List[List[Tuple[int, int]]] = []
        while waiting or any(slots):
            slots = [slot for slot in slots if slot]
            while len(slots) < self.batch_size and waiting:
                slots.append(waiting.pop())
            if not slots:
                return
            yield [slot.pop(0) for slot in slots]

    def __len__(self) -> int:
        """The number of batches (the schedule of :meth:`__iter__`, counted)."""
        return sum(1 for _ in self)

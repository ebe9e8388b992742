"""Image-level training sampler over the target frames of video datasets."""

from __future__ import annotations

import math
import random
from typing import Iterator, List, Sized, Tuple

from mmdet.registry import DATA_SAMPLERS
from mmengine.dist import get_dist_info, sync_random_seed
from torch.utils.data import Sampler


def _target_frames(dataset, video_offset: int = 0) -> List[Tuple[int, int]]:
    getter = getattr(dataset, 'get_target_frame_inds', None)
    items = []
    for video_idx in range(len(dataset)):
        if getter is not None:
            frames = getter(video_idx)
        else:
            frames = range(dataset.get_len_per_video(video_idx))
        items.extend((video_offset + video_idx, f) for f in frames)
    return items


@DATA_SAMPLERS.register_module()
class TargetFrameSampler(Sampler):
    """Shuffle the training target frames of a video dataset, one ``(video, frame)`` each.

    Like mmdet's ``TrackImgSampler`` in training mode, but it enumerates only each video's
    ``target_frame_inds`` (see :class:`~mmpsla.datasets.ImagenetVIDDataset`: annotated
    frames, optionally only the ``is_vid_train_frame`` subset) while the pipeline's frame
    sampler may still pick key/reference frames anywhere in the video. Works on a
    :class:`~mmpsla.datasets.VideoConcatDataset` (e.g. ImageNet VID + DET), where indices
    are ``(global_video_idx, frame_idx)``. Every frame is visited once per epoch (padded to
    be divisible by the world size); ``shuffle=False`` keeps the natural order.

    With VID restricted to the 15-frames-per-video subset (~57k targets) and the 30-class
    DET subset (~53k one-frame videos), this yields the paper's ~1:1 VID:DET mix.

    Args:
        dataset (Sized): A video dataset or a ``VideoConcatDataset`` of them.
        shuffle (bool): Shuffle every epoch. Defaults to True.
        seed (int, optional): Shared random seed. Defaults to a synced random one.
    """

    def __init__(self, dataset: Sized, shuffle: bool = True, seed: int | None = None) -> None:
        self.rank, self.world_size = get_dist_info()
        self.dataset = dataset
        self.shuffle = shuffle
        self.seed = sync_random_seed() if seed is None else seed
        self.epoch = 0
        if getattr(dataset, 'test_mode', False):
            raise ValueError(
                'TargetFrameSampler is a training sampler; use TrackImgSampler in test mode'
            )
        if hasattr(dataset, 'datasets'):  # VideoConcatDataset
            self.indices = []
            offset = 0
            for sub in dataset.datasets:
                self.indices.extend(_target_frames(sub, offset))
                offset += len(sub)
        else:
            self.indices = _target_frames(dataset)
        if not self.indices:
            raise ValueError('TargetFrameSampler: the dataset has no target frame')
        self.num_samples = int(math.ceil(len(self.indices) / self.world_size))
        self.total_size = self.num_samples * self.world_size

    def __iter__(self) -> Iterator[Tuple[int, int]]:
        indices = list(self.indices)
        if self.shuffle:
            random.Random(self.seed + self.epoch).shuffle(indices)
        indices += indices[: self.total_size - len(indices)]
        return iter(indices[self.rank : self.total_size : self.world_size])

    def __len__(self) -> int:
        return self.num_samples

    def set_epoch(self, epoch: int) -> None:
        """Set the epoch (changes the shuffle order)."""
        self.epoch = epoch

    def __repr__(self) -> str:
        return (
            f'{type(self).__name__}(num_frames={len(self.indices)}, '
            f'shuffle={self.shuffle}, seed={self.seed})'
        )

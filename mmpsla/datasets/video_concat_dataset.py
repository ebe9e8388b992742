"""Concatenation of video datasets that accepts ``(video_idx, frame_idx)`` indices."""

from __future__ import annotations

from typing import Any, Tuple, Union

from mmdet.registry import DATASETS
from mmengine.dataset import ConcatDataset


@DATASETS.register_module()
class VideoConcatDataset(ConcatDataset):
    """``mmengine.dataset.ConcatDataset`` of video datasets (e.g. ImageNet VID + DET).

    Besides an int (a global video index) it accepts ``(global_video_idx, frame_idx)``,
    the index form produced by :class:`~mmpsla.datasets.TargetFrameSampler`, and forwards
    ``(local_video_idx, frame_idx)`` to the owning dataset. As in mmengine, all datasets must
    share their meta information (checked by ``ConcatDataset``).
    """

    def _split_index(self, idx: Union[int, Tuple[int, int]]):
        if isinstance(idx, tuple):
            if len(idx) != 2:
                raise ValueError(f'expected (video_idx, frame_idx), got {idx}')
            dataset_idx, local = self._get_ori_dataset_idx(int(idx[0]))
            return dataset_idx, (local, int(idx[1]))
        return self._get_ori_dataset_idx(idx)

    def __getitem__(self, idx: Union[int, Tuple[int, int]]) -> Any:
        if not self._fully_initialized:
            self.full_init()
        dataset_idx, local = self._split_index(idx)
        return self.datasets[dataset_idx][local]

    def get_len_per_video(self, idx: int) -> int:
        """Number of frames of global video ``idx``."""
        dataset_idx, local = self._get_ori_dataset_idx(idx)
        return self.datasets[dataset_idx].get_len_per_video(local)

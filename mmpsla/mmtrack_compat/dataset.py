"""mmtrack 1.x's ``ImagenetVIDDataset`` (``load_as_video``, ``ref_img_sampler``) on mmpsla's."""

import copy
from typing import Any, List, Optional, Tuple

from ..datasets import ImagenetVIDDataset
from ..datasets.transforms.vid_ref_frame_sample import ref_img_sampler_to_transform
from .registry import DATASETS


@DATASETS.register_module(name='ImagenetVIDDataset')
class MMTrackImagenetVIDDataset(ImagenetVIDDataset):
    """ImageNet VID / DET with mmtrack 1.x's dataset arguments (``mmtrack`` scope).

    Differences from :class:`mmpsla.datasets.ImagenetVIDDataset` (which it extends):

    - ``ref_img_sampler`` (mmtrack samples reference frames in the dataset) becomes a
      ``VIDRefFrameSample`` prepended to the pipeline
      (:func:`ref_img_sampler_to_transform`); ``None`` keeps the pipeline as it is.
    - ``load_as_video=False`` (ImageNet DET) makes every image a one-frame video.
    - Training items are *frames*, as in mmtrack: item ``i`` is the ``i``-th training
      target frame (see ``filter_cfg``); :meth:`get_data_info` returns that frame's
      info (``width`` / ``height`` for mmdet's ``AspectRatioBatchSampler``), and
      :meth:`prepare_data` hands the frame's whole video, ``key_frame_id`` set, to the
      pipeline. Test items stay videos, iterated frame by frame by ``VideoSampler``
      (mmdet's ``TrackImgSampler``).
    - A test pipeline without a frame sampler (``ref_img_sampler=None``: mmtrack's DFF
      test) receives one frame's info (values, not lists), which
      ``PackTrackInputs(pack_single_img=True)`` packs.

    Args:
        load_as_video (bool): False: each image is its own video. Defaults to True.
        ref_img_sampler (dict, optional): mmtrack's reference-frame sampler.
        pipeline (list[dict]): the (mmtrack) pipeline.
        **kwargs: see :class:`mmpsla.datasets.ImagenetVIDDataset`.
    """

    def __init__(
        self,
        *args,
        load_as_video: bool = True,
        ref_img_sampler: Optional[dict] = None,
        pipeline: Optional[list] = None,
        **kwargs,
    ) -> None:
        self.load_as_video = load_as_video
        self.ref_img_sampler = copy.deepcopy(ref_img_sampler)
        pipeline = list(pipeline or [])
        sampler = ref_img_sampler_to_transform(ref_img_sampler)
        if sampler is not None:
            pipeline.insert(0, sampler)
        self._frames: Optional[List[Tuple[int, int]]] = None
        super().__init__(*args, pipeline=pipeline, **kwargs)

    def load_data_list(self) -> List[dict]:
        """Videos as mmpsla loads them; one-frame videos when ``load_as_video=False``."""
        videos = super().load_data_list()
        if self.load_as_video:
            return videos
        singles = []
        for video in videos:
            for img in video['images']:
                img = dict(img, frame_id=0, video_id=f'{video["video_id"]}/{img["img_id"]}')
                singles.append({'video_id': img['video_id'], 'images': [img], 'video_length': 1})
        return singles

    def full_init(self) -> None:
        """Load, filter and index the training target frames."""
        if self._fully_initialized:
            return
        super().full_init()
        if not self.test_mode:
            self._frames = [
                (v, pos) for v in range(super().__len__()) for pos in self.get_target_frame_inds(v)
            ]

    def __len__(self) -> int:
        if self._frames is not None:
            return len(self._frames)
        return super().__len__()

    def get_video_info(self, video_idx: int) -> dict:
        """Video-level info of video ``video_idx``."""
        return super().get_data_info(video_idx)

    def get_target_frame_inds(self, video_idx: int) -> List[int]:
        info = self.get_video_info(video_idx)
        return list(info.get('target_frame_inds', range(info['video_length'])))

    def get_len_per_video(self, idx: int) -> int:
        return len(self.get_video_info(idx)['images'])

    def get_data_info(self, idx: int) -> dict:
        """Training: frame ``idx``'s info; test: video ``idx``'s info."""
        if self._frames is None:
            return super().get_data_info(idx)
        video_idx, pos = self._frames[idx]
        return self.get_video_info(video_idx)['images'][pos]

    def prepare_data(self, idx: Any) -> Any:
        """Run the pipeline on training frame ``idx`` or test frame ``(video, frame)``."""
        if self._frames is not None:
            video_idx, pos = self._frames[idx]
            info = self.get_video_info(video_idx)
            info['key_frame_id'] = pos
            return self.pipeline(info)
        if isinstance(idx, tuple) and not self._pipeline_samples_frames():
            video = self.get_video_info(idx[0])
            frame = dict(video['images'][idx[1]])
            frame.update(video_id=video['video_id'], ori_video_length=video['video_length'])
            frame['video_length'] = video['video_length']
            return self.pipeline(frame)
        return super().prepare_data(idx)

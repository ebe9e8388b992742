"""Flow-Guided Feature Aggregation (Zhu et al., ICCV 2017) on mmpsla's shared head."""

from typing import List, Optional, Sequence, Union

import torch
from mmdet.registry import MODELS
from mmdet.structures import TrackDataSample
from torch import Tensor

from .flow_guided_video_detector import FlowGuidedVideoDetector


def fixed_stride_window(meta: dict, test_cfg: dict) -> List[int]:
    """Frame ids of the fixed-stride test window ``W(t)`` of the current frame.

    Args:
        meta (dict): the current frame's metainfo (``frame_id``, video length
            ``ori_video_length`` / ``video_length`` and, optionally, ``num_left_ref_imgs`` /
            ``num_right_ref_imgs`` / ``frame_stride`` set by the test sampler).
        test_cfg (dict): fallbacks for the window sizes (defaults 15, left, 1).

    Returns:
        list[int]: ``[clip(t + k * stride) for k in -num_left..num_right]``.
    """
    length = meta.get('ori_video_length', meta.get('video_length'))
    if length is None:
        raise ValueError('the test window needs the video length (ori_video_length / video_length)')
    num_left = meta.get('num_left_ref_imgs', test_cfg.get('num_left_ref_imgs', 15))
    num_right = meta.get('num_right_ref_imgs', test_cfg.get('num_right_ref_imgs'))
    num_right = num_left if num_right is None else num_right
    stride = meta.get('frame_stride', test_cfg.get('frame_stride', 1))
    if num_left < 0 or num_right < 0 or stride < 1:
        raise ValueError(
            f'invalid test window: num_left_ref_imgs={num_left}, '
            f'num_right_ref_imgs={num_right}, frame_stride={stride}'
        )
    frame_id = meta['frame_id']
    return [min(max(frame_id + k * stride, 0), length - 1) for k in range(-num_left, num_right + 1)]


@MODELS.register_module()
class FGFA(FlowGuidedVideoDetector):
    """Flow-guided feature aggregation for video object detection.

    Training (bilateral references, e.g. ``VIDRefFrameSample(num_ref_imgs=2,
    frame_range=9, method='bilateral_uniform')``): N_f runs on the target and on every
    reference frame (one batch); FlowNet gives the flow from the target to each reference,
    whose features are warped onto the target; :class:`EmbedAggregator` aggregates the
    target's own features and the warped ones (per-pixel softmax of cosine similarities
    of embeddings) and the task head's loss is taken on the target.

    Test (``VIDRefFrameSample(method='test_with_fix_stride')``, frames one by one): the
    features of frame t aggregate the window
    ``W(t) = [clip(t + k * s) for k in -n_l..n_r]`` (stride ``s``, ``clip`` to
    ``[0, L - 1]``, so near the ends of the video the first / last frame repeats, as in
    mmtrack); frame t itself (and its clipped copies) enters un-warped, every other window
    frame is warped onto t with FlowNet(t, frame). Each frame's image and N_f features are
    cached by ``frame_id`` the first time the frame arrives -- as the current frame or as a
    reference the sampler attached (frames 0..n_r*s at the first frame, then the frame
    entering the window, ``clip(t + n_r * s)``) -- so N_f runs once per frame and FlowNet
    once per distinct window frame. The cache is dropped when a new video starts and
    frames older than the window are evicted. A needed window frame that never arrived
    raises a ``ValueError``.

    Window sizes: ``num_left_ref_imgs``, ``num_right_ref_imgs`` and ``frame_stride`` are
    read from the current frame's metainfo when the sampler sets them, else from
    ``test_cfg`` (defaults 15, ``num_left_ref_imgs``, 1 -- mmtrack's 31-frame window).
    The video length comes from the metainfo (``ori_video_length``, else
    ``video_length``).

    Args:
        aggregator (dict): ``EmbedAggregator`` config (``channels`` = feature channels).
        test_cfg (dict, optional): may hold ``num_left_ref_imgs`` (default 15),
            ``num_right_ref_imgs`` and ``frame_stride`` (default 1).
        Others: see :class:`FlowGuidedVideoDetector`.
    """

    def __init__(
        self,
        detector: dict,
        motion: dict,
        aggregator: dict,
        train_cfg: Optional[dict] = None,
        test_cfg: Optional[dict] = None,
        frozen_modules: Optional[Union[str, Sequence[str]]] = None,
        data_preprocessor: Optional[dict] = None,
        init_cfg: Optional[Union[dict, List[dict]]] = None,
    ) -> None:
        super().__init__(
            detector=detector,
            motion=motion,
            train_cfg=train_cfg,
            test_cfg=test_cfg,
            frozen_modules=frozen_modules,
            data_preprocessor=data_preprocessor,
            init_cfg=init_cfg,
        )
        self.aggregator = MODELS.build(aggregator)
        self.freeze_modules()
        for key in ('num_left_ref_imgs', 'num_right_ref_imgs', 'frame_stride'):
            value = self.test_cfg.get(key)
            if value is not None and (not isinstance(value, int) or value < 0):
                raise ValueError(f'test_cfg.{key} must be a non-negative int, got {value!r}')
        if self.test_cfg.get('frame_stride', 1) < 1:
            raise ValueError('test_cfg.frame_stride must be >= 1')

    def extra_repr(self) -> str:
        nl = self.test_cfg.get('num_left_ref_imgs', 15)
        nr = self.test_cfg.get('num_right_ref_imgs', nl)
        return f'test window: left={nl}, right={nr}, stride={self.test_cfg.get("frame_stride", 1)}'

    # ------------------------------------------------------------------ training
    def _train_feat(self, inputs: Tensor, data_samples: List[TrackDataSample]):
        """Aggregated features of the target frames and the targets' samples."""
        (img,), (samples,) = self.get_frames(inputs, data_samples, 'key')
        ref_imgs, ref_samples = self.get_frames(inputs, data_samples, 'ref')
        if not ref_imgs:
            raise ValueError('FGFA needs reference frames in training (ref_frames_inds empty)')
        num, num_refs = img.size(0), len(ref_imgs)
        feats = self.extract_feat(torch.cat([img, *ref_imgs], dim=0))
        feat, ref_feats = feats[:num], feats[num:]  # ref_feats: (num_refs * N, ...)
        flows = self.compute_flow(
            img.repeat(num_refs, 1, 1, 1),
            torch.cat(ref_imgs, dim=0),
            [s.metainfo for s in samples] * num_refs,
        )
        same = [f for refs in ref_samples for f in self.same_image(samples, refs)]
        warped = self.warp_to_current(ref_feats, flows, same)
        warped = warped.view(num_refs, num, *warped.shape[1:])
        agg = [
            self.aggregator(feat[[i]], torch.cat((feat[[i]], warped[:, i]), dim=0))
            for i in range(num)
        ]
        return torch.cat(agg, dim=0), samples

    # ------------------------------------------------------------------ test
    def test_window(self, meta: dict) -> List[int]:
        """Frame ids aggregated for the current frame (its window ``W(t)``); see
        :func:`fixed_stride_window`."""
        return fixed_stride_window(meta, self.test_cfg)

    def _cache_frames(self, inputs: Tensor, sample: TrackDataSample) -> None:
        """Run N_f (one batch) on the frames of ``sample`` that are not cached yet."""
        cache, new_ids, new_inds = self.uncached_frames(sample)
        if new_inds:
            imgs = inputs[0, new_inds]
            feats = self.extract_feat(imgs)
            for i, frame_id in enumerate(new_ids):
                cache[frame_id] = (imgs[i : i + 1], feats[i : i + 1])

    def predict(self, inputs: Tensor, data_samples: List[TrackDataSample]) -> list:
        """Detect the current frame of a video stream (batch size 1).

        Args:
            inputs (Tensor): (1, T, C, H, W): the current frame (``key_frames_inds[0]``)
                and any reference frames the sampler attached.
            data_samples (list[TrackDataSample]): 1 sample.

        Returns:
            list[TrackDataSample]: the sample, its current frame carrying
            ``pred_instances`` in original-image coordinates.
        """
        sample = self.check_single_stream(data_samples)
        img, det_sample = self.current_frame(inputs, sample)
        meta = det_sample.metainfo
        self.update_video_state(meta)
        self._cache_frames(inputs, sample)
        cache = self.video_state['frames']
        window = self.test_window(meta)
        missing = sorted({i for i in window if i not in cache})
        if missing:
            raise ValueError(
                f'FGFA: frames {missing} of the test window of frame {meta["frame_id"]} '
                f'(video {meta.get("video_id")}) were never provided; use '
                "VIDRefFrameSample(method='test_with_fix_stride') in the test pipeline"
            )
        for frame_id in [i for i in cache if i < min(window)]:
            del cache[frame_id]  # older than every future window
        feat = cache[meta['frame_id']][1]
        ref_ids = sorted(set(window) - {meta['frame_id']})
        if ref_ids:
            ref_imgs = torch.cat([cache[i][0] for i in ref_ids], dim=0)
            ref_feats = torch.cat([cache[i][1] for i in ref_ids], dim=0)
            flows = self.compute_flow(img.expand_as(ref_imgs), ref_imgs, [meta])
            warped = self.warp_to_current(ref_feats, flows, [False] * len(ref_ids))
            slot = {frame_id: i for i, frame_id in enumerate(ref_ids)}
            # the current frame's slot, and clipped copies of it at the video's ends, take
            # its own features (its flow to itself is zero)
            stack = [feat[0] if fid == meta['frame_id'] else warped[slot[fid]] for fid in window]
            feat = self.aggregator(feat, torch.stack(stack, dim=0))
        results = self.head_predict(feat, [det_sample], rescale=True)
        return self.add_pred_to_track_samples(data_samples, results)

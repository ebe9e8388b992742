"""Flow-Guided Feature Aggregation (Zhu et al., ICCV 2017) on mmpsla's shared head."""

from typing import List, Optional, Sequence, Union

import torch
from mmdet.registry import MODELS
from mmdet.structures import TrackDataSample
from torch import Tensor

from ...utils.frame_windows import window_from_meta
from .base_video_detector import Stream, run_batched
from .flow_guided_video_detector import FlowGuidedVideoDetector


@MODELS.register_module()
class FGFA(FlowGuidedVideoDetector):
    """Flow-guided feature aggregation for video object detection.

    Training (bilateral references, e.g. ``VIDRefFrameSample(num_ref_imgs=2,
    frame_range=9, method='bilateral_uniform')``): N_f runs on the target and on every
    reference frame (one batch); FlowNet gives the flow from the target to each reference,
    whose features are warped onto the target; :class:`EmbedAggregator` aggregates the
    target's own features and the warped ones (per-pixel softmax of cosine similarities
    of embeddings) and the task head's loss is taken on the target.

    Test (``VIDRefFrameSample(method='test_with_fix_stride')``, each video's frames one by
    one, B videos in lockstep with their own caches): the
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

    The window is the sampler's (the test-schedule contract): it packs its description
    (``num_left_ref_imgs``, ``num_right_ref_imgs``, ``frame_stride``, with ``frame_id`` and
    ``ori_video_length``) into each frame's metainfo and the model evaluates it with the
    same :func:`~mmpsla.utils.frame_windows.fixed_stride_window` the sampler used to pick
    the frames it attached; the model never chooses a window of its own.

    Args:
        aggregator (dict): ``EmbedAggregator`` config (``channels`` = feature channels).
        test_cfg (dict, optional): ``rpn`` / ``rcnn``. Window sizes here
            (``num_left_ref_imgs``, ``num_right_ref_imgs``, ``frame_stride``, which older
            configs carry) are checked to be ints but never read: the pipeline's window
            wins, also where the inference API rewrites it (``inference_vid``'s causal
            window).
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
        """Frame ids aggregated for the current frame: the window ``W(t)`` its sampler
        described in the metainfo (:func:`~mmpsla.utils.frame_windows.window_from_meta`).

        Raises:
            ValueError: if the metainfo carries no window description.
        """
        return window_from_meta(meta)

    def predict(self, inputs, data_samples: List[TrackDataSample]) -> list:
        """Detect the current frame of each video of a lockstep batch.

        N_f runs once per frame (the frames not cached yet of all streams, one batch per
        image size); FlowNet + warping of every stream's window frames onto its current
        frame run as one batch too; the aggregation is per stream.

        Args:
            inputs (Tensor | list[Tensor]): (B, T, C, H, W), or B clips (see
                :meth:`~BaseVideoDetector.open_streams`): the current frame
                (``key_frames_inds[0]``) and any reference frames the sampler attached.
            data_samples (list[TrackDataSample]): B samples, one per video.

        Returns:
            list[TrackDataSample]: the samples, each current frame carrying
            ``pred_instances`` in original-image coordinates.
        """
        streams = self.open_streams(inputs, data_samples)
        new = [self.uncached_frames(s.sample, s.state) for s in streams]
        fresh = [i for i, (_, ids, _) in enumerate(new) if ids]
        feats = run_batched(
            [(streams[i].inputs[0, new[i][2]],) for i in fresh],
            lambda _, imgs: self.extract_feat(imgs),
        )
        for i, feat in zip(fresh, feats):
            cache, ids, inds = new[i]
            imgs = streams[i].inputs[0, inds]
            for j, frame_id in enumerate(ids):
                cache[frame_id] = (imgs[j : j + 1], feat[j : j + 1])
        windows = [self._window_in_cache(s) for s in streams]
        pairs = []  # per stream with references: (current (K, 3, H, W), refs, ref feats)
        for stream, window in zip(streams, windows):
            cache = stream.state['frames']
            ref_ids = sorted(set(window) - {stream.meta['frame_id']})
            if ref_ids:
                ref_imgs = torch.cat([cache[i][0] for i in ref_ids], dim=0)
                ref_feats = torch.cat([cache[i][1] for i in ref_ids], dim=0)
                pairs.append((stream.frame().expand_as(ref_imgs), ref_imgs, ref_feats))
            else:
                pairs.append(None)
        with_refs = [i for i, pair in enumerate(pairs) if pair is not None]
        warped = run_batched(
            [pairs[i] for i in with_refs],
            lambda inds, cur, refs, ref_feats: self.warp_to_current(
                ref_feats,
                self.compute_flow(
                    cur,
                    refs,
                    [
                        streams[with_refs[k]].meta
                        for k in inds
                        for _ in range(len(pairs[with_refs[k]][0]))
                    ],
                ),
                [False] * cur.size(0),
            ),
        )
        warped_of = dict(zip(with_refs, warped))
        out = []
        for i, (stream, window) in enumerate(zip(streams, windows)):
            frame_id = stream.meta['frame_id']
            feat = stream.state['frames'][frame_id][1]
            if i in warped_of:
                ref_ids = sorted(set(window) - {frame_id})
                slot = {fid: k for k, fid in enumerate(ref_ids)}
                # the current frame's slot, and clipped copies of it at the video's ends,
                # take its own features (its flow to itself is zero)
                stack = [feat[0] if f == frame_id else warped_of[i][slot[f]] for f in window]
                feat = self.aggregator(feat, torch.stack(stack, dim=0))
            out.append(feat)
        results = self.predict_heads(out, streams)
        return self.add_pred_to_track_samples(data_samples, results)

    def _window_in_cache(self, stream: Stream) -> List[int]:
        """The stream's window, checked against its frame cache (older frames evicted)."""
        meta, cache = stream.meta, stream.state['frames']
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
        return window

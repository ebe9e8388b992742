"""SELSA (Wu et al., ICCV 2019) and, with a TemporalRoIAlign extractor, TRoI Align (Gong et
al., AAAI 2021) on mmpsla's shared Faster R-CNN parts."""

from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
from mmdet.registry import MODELS
from mmdet.structures import DetDataSample, TrackDataSample
from mmdet.structures.bbox import bbox2roi
from mmengine.structures import InstanceData
from torch import Tensor

from ...utils.frame_windows import window_from_meta
from .base_video_detector import Stream
from .mmtrack_style_detector import MMTrackStyleVideoDetector


@MODELS.register_module()
class SELSA(MMTrackStyleVideoDetector):
    """Sequence-level semantics aggregation over proposals of sampled frames.

    N_f runs on the target frame and on every reference frame; the RPN proposes boxes on
    each; the RoI head (:class:`SelsaRoIHead` + :class:`SelsaBBoxHead`) refines every
    target proposal with an attention-weighted sum over *all* reference proposals (paper
    Eq. 3-4). With ``bbox_roi_extractor=TemporalRoIAlign`` the target's RoI features are
    also completed from the most similar points of the reference maps (TRoI Align).

    Training: samples ``refs + [target]`` (e.g. ``VIDRefFrameSample(num_ref_imgs=2,
    method='bilateral_uniform')``); RPN losses on the target, reference proposals from
    the RPN in test mode (no gradient to the RPN through them, as in mmtrack), RoI losses
    on the target with its own sample's references; with batch size N the RoI losses are
    the mean of the N per-clip losses.

    Test (one stream, frames in order), the reference set of frame t is read from the
    frames the test sampler attached (each frame's features and proposals are computed
    once and cached by ``frame_id``):

    - ``VIDRefFrameSample(method='test_with_adaptive_stride')`` (mmtrack's SELSA and
      TRoI Align configs): the frames attached to the video's first frame (evenly spaced
      over the whole video) plus frame t itself;
    - ``VIDRefFrameSample(method='test_with_fix_stride')`` (metainfo ``frame_stride``):
      the window ``W(t)`` the sampler describes
      (:func:`~mmpsla.utils.frame_windows.window_from_meta`), as FGFA.

    A batch of B videos (lockstep) is processed one stream after another, each with its
    own state: the results equal batch size 1, without a speed-up (the RoI head attends
    over each video's own references).

    Args: see :class:`MMTrackStyleVideoDetector`; ``detector.roi_head`` must be a
        ``SelsaRoIHead``.
    """

    def __init__(
        self,
        detector: dict,
        train_cfg: Optional[dict] = None,
        test_cfg: Optional[dict] = None,
        frozen_modules: Optional[Union[str, Sequence[str]]] = None,
        data_preprocessor: Optional[dict] = None,
        init_cfg: Optional[Union[dict, List[dict]]] = None,
    ) -> None:
        super().__init__(
            detector=detector,
            train_cfg=train_cfg,
            test_cfg=test_cfg,
            frozen_modules=frozen_modules,
            data_preprocessor=data_preprocessor,
            init_cfg=init_cfg,
        )
        if not hasattr(self.roi_head, '_references'):
            raise ValueError(
                f'SELSA needs detector.roi_head of type SelsaRoIHead, got '
                f'{type(self.roi_head).__name__}'
            )
        self.freeze_modules()

    # ------------------------------------------------------------------ training
    def _train_parts(self, inputs: Tensor, data_samples: List[TrackDataSample]):
        (img,), (samples,) = self.get_frames(inputs, data_samples, 'key')
        ref_imgs, ref_samples = self.get_frames(inputs, data_samples, 'ref')
        if not ref_imgs:
            raise ValueError('SELSA needs reference frames in training (ref_frames_inds empty)')
        num = img.size(0)
        feats = self.extract_feat(torch.cat([img, *ref_imgs], dim=0))
        ref_feats = feats[num:].view(len(ref_imgs), num, *feats.shape[1:])
        return feats[:num], samples, ref_feats, ref_samples

    def _ref_proposals(self, ref_feat: Tensor, samples: Sequence[DetDataSample]) -> list:
        """Test-mode RPN proposals of reference frames (T, C, h, w) -> T InstanceData."""
        return self.rpn_head.predict((ref_feat,), list(samples), rescale=False)

    def loss(self, inputs: Tensor, data_samples: List[TrackDataSample]) -> Dict[str, Tensor]:
        """RPN and SELSA RoI losses of the target frames.

        Args:
            inputs (Tensor): (N, T, C, H, W): references and target per clip.
            data_samples (list[TrackDataSample]): N samples.

        Returns:
            dict[str, Tensor]: ``rpn_*`` and RoI losses.
        """
        feat, samples, ref_feats, ref_samples = self._train_parts(inputs, data_samples)
        losses, proposals = self.rpn_loss_and_predict(feat, samples)
        roi_losses: Dict[str, Tensor] = {}
        for i, sample in enumerate(samples):
            refs = [ref[i] for ref in ref_samples]
            with torch.no_grad():
                ref_props = self._ref_proposals(ref_feats[:, i], refs)
            clip = self.roi_head.loss(
                (feat[i : i + 1],), (ref_feats[:, i],), [proposals[i]], ref_props, [sample]
            )
            for name, value in clip.items():
                value = value / len(samples) if torch.is_tensor(value) else value
                roi_losses[name] = roi_losses[name] + value if name in roi_losses else value
        losses.update(roi_losses)
        return losses

    def _forward(self, inputs: Tensor, data_samples: Optional[List[TrackDataSample]] = None):
        """RPN outputs and box-head outputs (cls_score, bbox_pred) of the first clip."""
        if data_samples is None:
            raise ValueError('SELSA needs data_samples in tensor mode')
        feat, samples, ref_feats, ref_samples = self._train_parts(inputs, data_samples)
        rpn_outs = self.rpn_head.forward((feat,))
        proposals = self.rpn_head.predict((feat[:1],), samples[:1], rescale=False)
        ref_props = self._ref_proposals(ref_feats[:, 0], [ref[0] for ref in ref_samples])
        with self.roi_head._references((ref_feats[:, 0],), ref_props):
            out = self.roi_head._bbox_forward((feat[:1],), bbox2roi([proposals[0].bboxes]))
        return rpn_outs, (out['cls_score'], out['bbox_pred'])

    # ------------------------------------------------------------------ test
    def _cache_frames(self, inputs: Tensor, sample: TrackDataSample) -> Dict[int, tuple]:
        """Features and proposals of the sample's frames not cached yet (one N_f batch)."""
        cache, new_ids, new_inds = self.uncached_frames(sample)
        if new_inds:
            feats = self.extract_feat(inputs[0, new_inds])
            props = self._ref_proposals(feats, [sample[i] for i in new_inds])
            for j, frame_id in enumerate(new_ids):
                cache[frame_id] = (feats[j : j + 1], props[j])
        return cache

    def reference_ids(self, meta: dict, sample: TrackDataSample) -> List[int]:
        """Frame ids of frame t's reference set (see the class docstring)."""
        if 'frame_stride' in meta:
            return window_from_meta(meta)
        if 'ref_ids' not in self.video_state:  # the video's first frame carries its refs
            inds = sample.metainfo.get('ref_frames_inds', [])
            if not inds:
                raise ValueError(
                    f'SELSA: frame {meta["frame_id"]} starts video {meta.get("video_id")} '
                    'but carries no reference frame; use '
                    "VIDRefFrameSample(method='test_with_adaptive_stride') in the test pipeline"
                )
            self.video_state['ref_ids'] = [sample[i].metainfo['frame_id'] for i in inds]
        return self.video_state['ref_ids'] + [meta['frame_id']]

    def predict(self, inputs, data_samples: List[TrackDataSample]) -> list:
        """Detect the current frame of each video of a lockstep batch (stream by stream).

        Args:
            inputs (Tensor | list[Tensor]): (B, T, C, H, W), or B clips (see
                :meth:`~BaseVideoDetector.open_streams`): the current frame
                (``key_frames_inds[0]``) and any reference frames the sampler attached.
            data_samples (list[TrackDataSample]): B samples, one per video.

        Returns:
            list[TrackDataSample]: the samples, each current frame carrying
            ``pred_instances`` in original-image coordinates.
        """
        results = []
        for stream in self.open_streams(inputs, data_samples):
            self.video_state = stream.state
            results.append(self._predict_stream(stream))
        return self.add_pred_to_track_samples(data_samples, results)

    def _predict_stream(self, stream: Stream) -> InstanceData:
        """Detections of one stream's current frame (its state is :attr:`video_state`)."""
        sample, det_sample, meta = stream.sample, stream.det_sample, stream.meta
        cache = self._cache_frames(stream.inputs, sample)
        ref_ids = self.reference_ids(meta, sample)
        missing = sorted({i for i in ref_ids if i not in cache})
        if missing:
            raise ValueError(
                f'SELSA: reference frames {missing} of frame {meta["frame_id"]} were never '
                'provided by the test pipeline'
            )
        if 'frame_stride' in meta:  # the window slides: forget frames left behind
            for frame_id in [i for i in cache if i < min(ref_ids)]:
                del cache[frame_id]
        feat, proposals = cache[meta['frame_id']]
        ref_feat, ref_props = self._stack(cache, ref_ids)
        results = self.roi_head.predict(
            (feat,), (ref_feat,), [proposals], ref_props, [det_sample], rescale=True
        )
        self._evict_current(meta)
        return results[0]

    @staticmethod
    def _stack(cache: dict, ids: Sequence[int]) -> Tuple[Tensor, List[InstanceData]]:
        return torch.cat([cache[i][0] for i in ids], dim=0), [cache[i][1] for i in ids]

    def _evict_current(self, meta: dict) -> None:
        """Adaptive stride: a frame outside the fixed reference set is not needed again."""
        if 'frame_stride' not in meta and meta['frame_id'] not in self.video_state['ref_ids']:
            self.video_state['frames'].pop(meta['frame_id'], None)

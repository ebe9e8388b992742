"""The PSLA video detector (paper Sec. 3): N_f / N_l split, RFU, DenseFT, task head N_t."""

from typing import List, Optional, Sequence, Tuple

import torch
from mmdet.registry import MODELS
from mmdet.structures import TrackDataSample
from torch import Tensor

from .base_video_detector import BaseVideoDetector, Stream, run_batched


@MODELS.register_module()
class PSLAVideoDetector(BaseVideoDetector):
    """PSLA video object detector.

    Key frames run the full network N_f (``backbone.forward``) and update the temporal
    feature F_t with RFU; non-key frames run the prefix N_l (``backbone.forward_low``) and
    DenseFT propagates F_t to them. The task head N_t (RPN + RoI head) runs on F_t for key
    frames and on DenseFT's output for non-key frames.

    Paper variants (Table 2/5), chosen by config:

    * method (a): ``use_rfu=False, use_quality_net=False`` - F_t is the nearest key frame's
      F_h; non-key frames get Transform Net + alignment only.
    * method (b): ``use_rfu=True, use_quality_net=False``.
    * method (c): ``use_rfu=True, use_quality_net=True`` (default).

    Training (paper §4.1): each sample holds frames [k1, k2, n]; the loss is computed on n
    only. With RFU: F_t = F_h^{k1}, F_t <- RFU(F_h^{k2}, F_t); without RFU: F_t = F_h^{k2}
    (k2 lies within half an interval of n, like the nearest key frame at test time). Then
    n's feature = DenseFT(F_l^n, F_t). A still image is the same frame three times.

    Test (fixed key-frame schedule, §3): B video streams in lockstep (batch size B, each
    video its own state; key frames of all streams are batched, non-key frames too). Frames carry
    ``key_frame_id`` / ``is_key_frame`` (see :meth:`BaseVideoDetector.key_frame_of`:
    mmtrack's ``test_cfg.key_frame_interval`` is translated for frames without marks); a
    sample of 2 frames ``[key, current]`` attaches a key frame that lies ahead of the
    current one. Per video, F_t and the id of the key frame it was last updated with are
    kept in its stream state (:meth:`~BaseVideoDetector.stream_states`), reset at every new
    video.

    Args:
        backbone (dict): ``PSLAResNet`` config (N_f / N_l).
        dense_ft (dict): ``DenseFT`` config (``use_quality_net`` is set from this class).
        rpn_head (dict): RPN head config.
        roi_head (dict): RoI head config.
        rfu (dict, optional): ``RFU`` config; required when ``use_rfu``.
        use_rfu (bool): Maintain F_t with RFU. Defaults to True.
        use_quality_net (bool): DenseFT's Quality Net. Defaults to True.
        key_frame_loss_weight (float): Weight of the auxiliary loss on the key frame k2's
            F_t (reported as ``key_*`` losses). Defaults to 0.0: the paper's non-key loss
            only.
        share_align (bool): RFU and DenseFT use one alignment module (one pair of
            embeddings f, g) instead of one each. Defaults to True: the paper describes
            one PSLA with one f and one g (Sec. 3.2), and its parameter counts (Table 3:
            method (c) is only ~1.0M larger than (a), about the Update Net plus the Quality
            Net) leave no room for a second pair. Needs identical ``rfu.align`` and
            ``dense_ft.align`` configs.
        train_cfg, test_cfg, data_preprocessor, init_cfg: See :class:`BaseVideoDetector`.
    """

    def __init__(
        self,
        backbone: dict,
        dense_ft: dict,
        rpn_head: dict,
        roi_head: dict,
        rfu: Optional[dict] = None,
        use_rfu: bool = True,
        use_quality_net: bool = True,
        key_frame_loss_weight: float = 0.0,
        share_align: bool = True,
        train_cfg: Optional[dict] = None,
        test_cfg: Optional[dict] = None,
        data_preprocessor: Optional[dict] = None,
        init_cfg: Optional[dict] = None,
    ) -> None:
        super().__init__(
            rpn_head=rpn_head,
            roi_head=roi_head,
            train_cfg=train_cfg,
            test_cfg=test_cfg,
            data_preprocessor=data_preprocessor,
            init_cfg=init_cfg,
        )
        self.backbone = MODELS.build(backbone)
        for name in ('forward_low', 'forward_high'):
            if not hasattr(self.backbone, name):
                raise ValueError(
                    f'backbone must provide {name}() (N_l / N_f split, e.g. PSLAResNet), '
                    f'got {type(self.backbone).__name__}'
                )
        self.use_rfu = use_rfu
        self.use_quality_net = use_quality_net
        if not key_frame_loss_weight >= 0:
            raise ValueError(f'key_frame_loss_weight must be >= 0, got {key_frame_loss_weight!r}')
        self.key_frame_loss_weight = float(key_frame_loss_weight)
        if use_rfu:
            if rfu is None:
                raise ValueError('rfu config is required when use_rfu=True')
            self.rfu = MODELS.build(rfu)
        else:
            self.rfu = None
        dense_ft = dict(dense_ft)
        dense_ft['use_quality_net'] = use_quality_net
        self.dense_ft = MODELS.build(dense_ft)
        self.share_align = bool(share_align and use_rfu)
        if self.share_align:
            if repr(self.rfu.align) != repr(self.dense_ft.align):
                raise ValueError(
                    'share_align=True needs the same alignment module in RFU and DenseFT, got '
                    f'{self.rfu.align!r} and {self.dense_ft.align!r}; set share_align=False'
                )
            self.dense_ft.align = self.rfu.align  # one module (its weights appear once)

    # ------------------------------------------------------------------ training
    def _train_feature(self, inputs: Tensor, data_samples: List[TrackDataSample]):
        """Features of the frames n and k2 of 3-frame training samples [k1, k2, n].

        Returns:
            tuple: (feat of n (N, C, h, w), DetDataSamples of n, F_t at k2 (N, C, h, w),
            DetDataSamples of k2).
        """
        (cur,), (cur_samples,) = self.get_frames(inputs, data_samples, 'key')
        refs, ref_samples = self.get_frames(inputs, data_samples, 'ref')
        if len(refs) != 2:
            raise ValueError(
                'PSLA training samples must have 2 reference (key) frames [k1, k2] and one '
                f'key_frames_inds frame n, got {len(refs)} reference frames'
            )
        if self.use_rfu:
            n = refs[0].size(0)
            feats = self.backbone(torch.cat(refs, dim=0))
            temporal = self.rfu(feats[n:], feats[:n])
        else:
            temporal = self.backbone(refs[1])
        feat = self.dense_ft(self.backbone.forward_low(cur), temporal)
        return feat, cur_samples, temporal, ref_samples[1]

    def loss(self, inputs: Tensor, data_samples: List[TrackDataSample]) -> dict:
        """Losses of the non-key frame n of each [k1, k2, n] sample.

        Args:
            inputs (Tensor): (N, 3, C, H, W).
            data_samples (list[TrackDataSample]): N samples, ``key_frames_inds == [2]``.

        Returns:
            dict[str, Tensor]: RPN and RoI-head losses of n, plus the same losses of k2
            prefixed with ``key_`` and scaled by ``key_frame_loss_weight`` when it is > 0.
        """
        feat, samples, temporal, key_samples = self._train_feature(inputs, data_samples)
        losses = self.head_loss(feat, samples)
        if self.key_frame_loss_weight > 0:
            key_losses = self.head_loss(temporal, key_samples)
            for name, value in key_losses.items():
                if 'loss' in name:
                    value = _scaled(value, self.key_frame_loss_weight)
                losses[f'key_{name}'] = value
        return losses

    def _forward(self, inputs: Tensor, data_samples: Optional[List[TrackDataSample]] = None):
        """Raw head outputs on the training-style feature of frame n (``mode='tensor'``)."""
        if data_samples is None:
            raise ValueError('PSLAVideoDetector needs data_samples in tensor mode')
        feat, samples, _, _ = self._train_feature(inputs, data_samples)
        return self.head_forward(feat, samples)

    # ------------------------------------------------------------------ test
    def _due_key_frame(self, stream: Stream) -> Optional[Tuple[Tensor, int]]:
        """The key frame the stream must run N_f on this step, ``(img (1, 3, H, W), id)``.

        A key frame attached ahead of the current frame (``ref_frames_inds``) is due when
        F_t was not yet updated with it; the current frame when it is a key frame (the
        test-schedule contract, :meth:`~BaseVideoDetector.key_frame_of`) that was not
        processed ahead; otherwise none.
        """
        state, meta = stream.state, stream.meta
        is_key, _ = self.key_frame_of(meta)
        ref_inds = list(stream.sample.metainfo.get('ref_frames_inds', []))
        if ref_inds:  # a key frame lying ahead of the current frame was attached
            attached = stream.sample[ref_inds[0]].metainfo['frame_id']
            if state.get('key_frame_id') != attached:
                return stream.frame(ref_inds[0]), attached
        if is_key and state.get('key_frame_id') != meta['frame_id']:
            return stream.frame(), meta['frame_id']
        return None

    def _update_key_frames(self, streams: Sequence[Stream], jobs: Sequence[tuple]) -> None:
        """N_f on the streams' due key frames (one batch per image size), then RFU (Eq. 2)
        against each stream's F_t; stores F_t (1, C, h, w) and the key frame id."""
        feats = run_batched([(img,) for img, _ in jobs], lambda _, img: self.backbone(img))
        if self.use_rfu:
            old = [s.state.get('temporal') for s in streams]
            first = [i for i, t in enumerate(old) if t is None]
            later = [i for i, t in enumerate(old) if t is not None]
            updated = dict(zip(first, (self.rfu(feats[i], None) for i in first)))
            pairs = run_batched([(feats[i], old[i]) for i in later], lambda _, f, t: self.rfu(f, t))
            updated.update(zip(later, pairs))
            feats = [updated[i] for i in range(len(streams))]
        for stream, feat, (_, frame_id) in zip(streams, feats, jobs):
            stream.state['temporal'] = feat
            stream.state['key_frame_id'] = frame_id
            stream.state['num_key_frames'] = stream.state.get('num_key_frames', 0) + 1

    def extract_test_features(self, streams: Sequence[Stream]) -> List[Tensor]:
        """Each stream's current-frame feature for N_t, updating its state.

        Key frames of all streams run N_f (+ RFU) as one batch, non-key frames N_l +
        DenseFT (Eq. 1) as another (per image size), so B videos cost about one batched
        step each.

        Args:
            streams (list[Stream]): clips (1, T, C, H, W), T = 1 (current) or 2 ([key,
                current]), with their video states.

        Returns:
            list[Tensor]: per stream (1, C, h, w): F_t at a key frame, DenseFT's output
            otherwise.
        """
        jobs = [self._due_key_frame(s) for s in streams]
        due = [i for i, job in enumerate(jobs) if job is not None]
        if due:
            self._update_key_frames([streams[i] for i in due], [jobs[i] for i in due])
        feats: List[Optional[Tensor]] = [None] * len(streams)
        non_key = []
        for i, stream in enumerate(streams):
            meta, state = stream.meta, stream.state
            is_key, key_id = self.key_frame_of(meta)
            needed = meta['frame_id'] if is_key else key_id
            if state.get('key_frame_id') != needed:
                raise RuntimeError(
                    f'frame {meta["frame_id"]} of video {meta.get("video_id")} needs key frame '
                    f'{needed}, which was never provided (last key frame processed: '
                    f'{state.get("key_frame_id")}); feed the frames of each video in order '
                    'through PSLAKeyFrameSchedule'
                )
            if is_key:
                feats[i] = state['temporal']
            else:
                non_key.append(i)
        propagated = run_batched(
            [
                (
                    streams[i].frame(),
                    streams[i].state['temporal'],
                    self.dense_ft.cached_temporal_key(streams[i].state),  # once per key frame
                )
                for i in non_key
            ],
            lambda _, img, temporal, key: self.dense_ft(
                self.backbone.forward_low(img), temporal, temporal_key=key
            ),
        )
        for i, feat in zip(non_key, propagated):
            feats[i] = feat
        return feats

    def predict(self, inputs, data_samples: List[TrackDataSample]) -> list:
        """Detections of each video's current frame, in original-image pixels.

        Args:
            inputs (Tensor | list[Tensor]): (B, T, C, H, W), or B clips of their own
                length / size (see :meth:`~BaseVideoDetector.open_streams`).
            data_samples (list[TrackDataSample]): B samples, one per video (stream).

        Returns:
            list[TrackDataSample]: the input samples, each current frame carrying
            ``pred_instances`` in original-image coordinates.
        """
        streams = self.open_streams(inputs, data_samples)
        results = self.predict_heads(self.extract_test_features(streams), streams)
        return self.add_pred_to_track_samples(data_samples, results)

    def extra_repr(self) -> str:
        return (
            f'use_rfu={self.use_rfu}, use_quality_net={self.use_quality_net}, '
            f'key_frame_loss_weight={self.key_frame_loss_weight}, share_align={self.share_align}'
        )


def _scaled(loss, weight: float):
    """``loss * weight`` for a loss tensor or a list of them (mmdet's per-level losses)."""
    if isinstance(loss, (list, tuple)):
        return type(loss)(item * weight for item in loss)
    return loss * weight

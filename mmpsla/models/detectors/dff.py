"""Deep Feature Flow (Zhu et al., CVPR 2017) on mmpsla's shared Faster R-CNN head."""

from typing import List, Optional, Tuple

from mmdet.registry import MODELS
from mmdet.structures import TrackDataSample
from torch import Tensor

from ..motion import flow_warp_feats
from .base_video_detector import Stream, run_batched
from .flow_guided_video_detector import FlowGuidedVideoDetector


@MODELS.register_module()
class DFF(FlowGuidedVideoDetector):
    """Deep Feature Flow for video recognition (Zhu et al., CVPR 2017).

    Training, on ``[reference key frame, target]`` pairs (the sampler's reference is
    ``ref_frames_inds[0]``, the labelled target ``key_frames_inds[0]``): FlowNet computes
    the flow from the target to the key frame, the key frame's features N_f(key) are
    warped onto the target with it and the task head's loss is taken on the target
    frame; gradients reach FlowNet through the warp (end-to-end, as in the paper).

    Test (B streams in lockstep, each video's frames in order; key frames of all streams
    run as one batch, FlowNet + warp of the others as another), following the test-schedule contract
    (:meth:`~BaseVideoDetector.key_frame_of`): a key frame runs N_f, and its image and
    features are cached; every other frame runs only FlowNet against the cached key
    image and warps the cached key features. Where the key frame sits is the pipeline's
    choice:

    - first frame of each segment (streaming, the DFF paper and mmtrack): mmtrack's
      ``test_cfg.key_frame_interval`` or ``VIDRefFrameSample(method=
      'test_key_frame_interval')``;
    - middle of each segment (DFF* of the PSLA paper, Table 4):
      ``PSLAKeyFrameSchedule(mode='middle')``, which attaches the key frame to the first
      frame of its segment (``[key, current]``); it is processed then and reused.

    A video whose first frame is not a key frame (a stream joined mid-segment) takes it as
    its first key frame. The cache is dropped when a new video starts (``frame_id == 0``
    or another ``video_id``).

    Args: see :class:`FlowGuidedVideoDetector`; ``test_cfg`` may take mmtrack's
        ``key_frame_interval`` (used for frames without key-frame marks).
    """

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        interval = self.test_cfg.get('key_frame_interval')
        if interval is not None and (not isinstance(interval, int) or interval < 1):
            raise ValueError(f'test_cfg.key_frame_interval must be an int >= 1, got {interval!r}')
        self.freeze_modules()

    def extra_repr(self) -> str:
        return f'test_cfg.key_frame_interval={self.test_cfg.get("key_frame_interval")}'

    def _train_feat(self, inputs: Tensor, data_samples: List[TrackDataSample]):
        """Warped key-frame features on the target frames and the targets' samples."""
        (img,), (samples,) = self.get_frames(inputs, data_samples, 'key')
        ref_imgs, ref_samples = self.get_frames(inputs, data_samples, 'ref')
        if len(ref_imgs) != 1:
            raise ValueError(
                'DFF trains on [key frame, target] pairs: each sample needs exactly 1 '
                f'reference frame, got {len(ref_imgs)} (use VIDRefFrameSample with '
                "num_ref_imgs=1, method='uniform')"
            )
        ref_feat = self.extract_feat(ref_imgs[0])
        flow = self.compute_flow(img, ref_imgs[0], [s.metainfo for s in samples])
        feat = self.warp_to_current(ref_feat, flow, self.same_image(samples, ref_samples[0]))
        return feat, samples

    def _key_frame_due(self, stream: Stream) -> Optional[Tuple[Tensor, int]]:
        """The frame stream must run N_f on this step, ``(img (1, 3, H, W), frame_id)``.

        A key frame attached ahead (``ref_frames_inds``) when its segment's key frame
        is not cached yet; else the current frame when it is a key frame not processed
        ahead, or the first frame a stream sees (a stream joined mid-segment); else none.
        """
        sample, state, meta = stream.sample, stream.state, stream.meta
        is_key, key_id = self.key_frame_of(meta)
        for idx in sample.metainfo.get('ref_frames_inds', []):  # a key frame ahead
            attached = sample[idx].metainfo['frame_id']
            if attached == key_id and state.get('key_frame_id') != key_id:
                return stream.frame(idx), key_id
        if 'key_frame_id' not in state or (is_key and state['key_frame_id'] != meta['frame_id']):
            return stream.frame(), meta['frame_id']
        return None

    def predict(self, inputs, data_samples: List[TrackDataSample]) -> list:
        """Detect the current frame of each video of a lockstep batch.

        Key frames of all streams run N_f as one batch; every other frame runs FlowNet
        against its stream's cached key image, batched too (per image size).

        Args:
            inputs (Tensor | list[Tensor]): (B, T, C, H, W), or B clips (see
                :meth:`~BaseVideoDetector.open_streams`): the current frame
                (``key_frames_inds[0]``) and, for a key frame lying ahead, that frame
                (``ref_frames_inds[0]``).
            data_samples (list[TrackDataSample]): B samples, one per video.

        Returns:
            list[TrackDataSample]: the samples, each current frame carrying
            ``pred_instances`` in original-image coordinates.
        """
        streams = self.open_streams(inputs, data_samples)
        jobs = [self._key_frame_due(s) for s in streams]
        due = [i for i, job in enumerate(jobs) if job is not None]
        key_feats = run_batched([(jobs[i][0],) for i in due], lambda _, x: self.extract_feat(x))
        for i, feat in zip(due, key_feats):
            img, frame_id = jobs[i]
            _, segment_key = self.key_frame_of(streams[i].meta)
            streams[i].state.update(
                key_img=img, key_feat=feat, key_frame_id=frame_id, segment_key=segment_key
            )
        feats: List[Optional[Tensor]] = [None] * len(streams)
        warp = []
        for i, stream in enumerate(streams):
            meta, state = stream.meta, stream.state
            if state['key_frame_id'] == meta['frame_id']:
                feats[i] = state['key_feat']
                continue
            _, key_id = self.key_frame_of(meta)
            if state.get('segment_key') != key_id:
                raise RuntimeError(
                    f'frame {meta["frame_id"]} of video {meta.get("video_id")} needs key frame '
                    f'{key_id}, which was never provided (last key frame: '
                    f'{state.get("key_frame_id")}); feed the frames of each video in order'
                )
            if state['key_img'].shape != stream.frame().shape:
                raise ValueError(
                    f'frame {meta["frame_id"]} of video {meta.get("video_id")} has shape '
                    f'{tuple(stream.frame().shape)} but its key frame {key_id} '
                    f'{tuple(state["key_img"].shape)}'
                )
            warp.append(i)
        warped = run_batched(
            [
                (streams[i].frame(), streams[i].state['key_img'], streams[i].state['key_feat'])
                for i in warp
            ],
            lambda inds, img, key_img, key_feat: flow_warp_feats(
                key_feat, self.compute_flow(img, key_img, [streams[i].meta for i in inds])
            ),
        )
        for i, feat in zip(warp, warped):
            feats[i] = feat
        results = self.predict_heads(feats, streams)
        return self.add_pred_to_track_samples(data_samples, results)

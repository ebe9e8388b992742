"""Deep Feature Flow (Zhu et al., CVPR 2017) on mmpsla's shared Faster R-CNN head."""

from typing import List

from mmdet.registry import MODELS
from mmdet.structures import TrackDataSample
from torch import Tensor

from ..motion import flow_warp_feats
from .flow_guided_video_detector import FlowGuidedVideoDetector


@MODELS.register_module()
class DFF(FlowGuidedVideoDetector):
    """Deep Feature Flow for video recognition (Zhu et al., CVPR 2017).

    Training, on ``[reference key frame, target]`` pairs (the sampler's reference is
    ``ref_frames_inds[0]``, the labelled target ``key_frames_inds[0]``): FlowNet computes
    the flow from the target to the key frame, the key frame's features N_f(key) are
    warped onto the target with it and the task head's loss is taken on the target
    frame; gradients reach FlowNet through the warp (end-to-end, as in the paper).

    Test (one stream, frames in order), following the test-schedule contract
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

    def _key_frame(self, img: Tensor, frame_id: int, segment_key: int) -> Tensor:
        """Run N_f on key frame ``frame_id`` (1, 3, H, W) serving the segment whose
        scheduled key frame is ``segment_key``, and cache it -> (1, C, h, w)."""
        feat = self.extract_feat(img)
        self.video_state.update(
            key_img=img, key_feat=feat, key_frame_id=frame_id, segment_key=segment_key
        )
        return feat

    def predict(self, inputs: Tensor, data_samples: List[TrackDataSample]) -> list:
        """Detect the current frame of a video stream (batch size 1).

        Args:
            inputs (Tensor): (1, T, C, H, W): the current frame (``key_frames_inds[0]``)
                and, for a key frame lying ahead, that frame (``ref_frames_inds[0]``).
            data_samples (list[TrackDataSample]): 1 sample.

        Returns:
            list[TrackDataSample]: the sample, its current frame carrying
            ``pred_instances`` in original-image coordinates.
        """
        sample = self.check_single_stream(data_samples)
        img, det_sample = self.current_frame(inputs, sample)
        meta = det_sample.metainfo
        self.update_video_state(meta)
        frame_id = meta['frame_id']
        is_key, key_id = self.key_frame_of(meta)
        state = self.video_state
        for idx in sample.metainfo.get('ref_frames_inds', []):  # a key frame ahead
            attached = sample[idx].metainfo['frame_id']
            if attached == key_id and state.get('key_frame_id') != key_id:
                self._key_frame(inputs[0, idx][None], key_id, key_id)
        if 'key_frame_id' not in state:  # a stream that starts mid-segment
            is_key = True
        if is_key:
            if state.get('key_frame_id') == frame_id:  # processed ahead: reuse
                feat = state['key_feat']
            else:
                feat = self._key_frame(img, frame_id, key_id)
        else:
            if state.get('segment_key') != key_id:
                raise RuntimeError(
                    f'frame {frame_id} of video {meta.get("video_id")} needs key frame '
                    f'{key_id}, which was never provided (last key frame: '
                    f'{state.get("key_frame_id")}); feed the frames of a video in order '
                    'with batch size 1'
                )
            if state['key_img'].shape != img.shape:
                raise ValueError(
                    f'frame {frame_id} has shape {tuple(img.shape)} but its key frame '
                    f'{key_id} {tuple(state["key_img"].shape)}'
                )
            flow = self.compute_flow(img, state['key_img'], [meta])
            feat = flow_warp_feats(state['key_feat'], flow)
        results = self.head_predict(feat, [det_sample], rescale=True)
        return self.add_pred_to_track_samples(data_samples, results)

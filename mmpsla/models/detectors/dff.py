"""Deep Feature Flow (Zhu et al., CVPR 2017) on mmpsla's shared Faster R-CNN head.

Also holds :class:`FlowGuidedVideoDetector`, the parts DFF and FGFA share (building the
feature network from an mmtrack-style ``detector`` config, FlowNet on frame pairs,
flow-guided warping, frozen modules).
"""

import copy
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
from mmdet.registry import MODELS
from mmdet.structures import DetDataSample, TrackDataSample
from mmengine.config import ConfigDict
from torch import Tensor

from ..motion import flow_warp_feats
from .base_video_detector import BaseVideoDetector

_DETECTOR_TYPES = (None, 'FasterRCNN', 'mmdet.FasterRCNN')
_DETECTOR_KEYS = {'backbone', 'neck', 'rpn_head', 'roi_head', 'train_cfg', 'test_cfg'}


def _merge_cfg(base: Optional[dict], extra: Optional[dict]) -> Optional[dict]:
    """``extra`` merged recursively over ``base`` (either may be None); never mutates.

    Nested dicts are merged key by key (``dict(rcnn=dict(sampler=dict(num=512)))`` only
    changes the sampler's ``num``); any other value replaces the base's.
    """
    if base is None and extra is None:
        return None
    merged = copy.deepcopy(dict(base or {}))
    for key, value in dict(extra or {}).items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge_cfg(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return ConfigDict(merged)  # attribute access, as mmdet's heads expect


class FlowGuidedVideoDetector(BaseVideoDetector):
    """Base of the flow-guided baselines (DFF, FGFA), with mmtrack 1.x's config fields.

    ``detector`` is an mmtrack-style Faster R-CNN config (``type='FasterRCNN'`` optional):
    its ``backbone`` (+ optional ``neck``) is built as the feature network N_f
    (:meth:`extract_feat` -> one stride-16 map) and its ``rpn_head``/``roi_head``/
    ``train_cfg``/``test_cfg`` become :class:`BaseVideoDetector`'s task head N_t -- the same
    head PSLA and the frame baseline use, so the comparison is like for like. The
    top-level ``train_cfg``/``test_cfg`` (e.g. ``test_cfg=dict(key_frame_interval=10)``)
    are merged recursively over the detector's ones. Parameters are therefore named ``backbone.*``,
    ``rpn_head.*``, ``roi_head.*``, ``motion.*`` (not ``detector.*``).

    Args:
        detector (dict): Faster R-CNN parts: ``backbone``, optional ``neck``,
            ``rpn_head``, ``roi_head``, ``train_cfg``, ``test_cfg``.
        motion (dict): flow network config (``FlowNetSimple``).
        train_cfg (dict, optional): merged recursively over ``detector['train_cfg']``.
        test_cfg (dict, optional): merged recursively over ``detector['test_cfg']``.
        frozen_modules (str | Sequence[str], optional): attribute paths of modules to
            freeze (no gradients, kept in eval mode), e.g. ``'motion'``; mmtrack's
            ``'detector.backbone'`` spelling is accepted and means ``'backbone'``.
        data_preprocessor (dict, optional): ``TrackDataPreprocessor`` config.
        init_cfg (dict | list[dict], optional): initialisation config.
    """

    def __init__(
        self,
        detector: dict,
        motion: dict,
        train_cfg: Optional[dict] = None,
        test_cfg: Optional[dict] = None,
        frozen_modules: Optional[Union[str, Sequence[str]]] = None,
        data_preprocessor: Optional[dict] = None,
        init_cfg: Optional[Union[dict, List[dict]]] = None,
    ) -> None:
        detector = copy.deepcopy(dict(detector))
        det_type = detector.pop('type', None)
        detector.pop('_scope_', None)
        if det_type not in _DETECTOR_TYPES:
            raise ValueError(
                f'detector must be a Faster R-CNN config (type "FasterRCNN"), got {det_type!r}'
            )
        unknown = set(detector) - _DETECTOR_KEYS
        missing = {'backbone', 'rpn_head', 'roi_head'} - set(detector)
        if unknown or missing:
            raise ValueError(
                f'detector config: unknown keys {sorted(unknown)}, missing keys '
                f'{sorted(missing)} (expected backbone, [neck], rpn_head, roi_head, '
                'train_cfg, test_cfg)'
            )
        super().__init__(
            rpn_head=detector['rpn_head'],
            roi_head=detector['roi_head'],
            train_cfg=_merge_cfg(detector.get('train_cfg'), train_cfg),
            test_cfg=_merge_cfg(detector.get('test_cfg'), test_cfg),
            data_preprocessor=data_preprocessor,
            init_cfg=init_cfg,
        )
        self.backbone = MODELS.build(detector['backbone'])
        self.neck = MODELS.build(detector['neck']) if detector.get('neck') else None
        self.motion = MODELS.build(motion)
        if isinstance(frozen_modules, str):
            frozen_modules = [frozen_modules]
        self.frozen_modules = [self._strip_detector(m) for m in (frozen_modules or [])]
        for name in self.frozen_modules:
            module = self._get_submodule(name)
            module.eval()
            for param in module.parameters():
                param.requires_grad_(False)

    # ------------------------------------------------------------------ modules
    @staticmethod
    def _strip_detector(name: str) -> str:
        return name[len('detector.') :] if name.startswith('detector.') else name

    def _get_submodule(self, name: str) -> torch.nn.Module:
        try:
            return self.get_submodule(name)
        except AttributeError as err:
            raise ValueError(f'frozen_modules: the model has no module {name!r}') from err

    def train(self, mode: bool = True):
        """Set the train mode; frozen modules always stay in eval mode."""
        super().train(mode)
        for name in getattr(self, 'frozen_modules', []):
            self._get_submodule(name).eval()
        return self

    def extract_feat(self, img: Tensor) -> Tensor:
        """N_f: images (N, 3, H, W) -> one feature map (N, C, H/16, W/16)."""
        feat = self.backbone(img)
        if self.neck is not None:
            feat = self.neck(feat if isinstance(feat, (tuple, list)) else (feat,))
        return feat[-1] if isinstance(feat, (tuple, list)) else feat

    # ------------------------------------------------------------------ flow
    @property
    def preprocess_cfg(self) -> Optional[dict]:
        """Mean/std the data pre-processor normalised with (None if it did not)."""
        dp = self.data_preprocessor
        if not getattr(dp, '_enable_normalize', False):
            return None
        return dict(mean=dp.mean.reshape(-1), std=dp.std.reshape(-1))

    def compute_flow(self, imgs: Tensor, ref_imgs: Tensor, metas: Sequence[dict]) -> Tensor:
        """FlowNet on ``[current, reference]`` pairs.

        Args:
            imgs (Tensor): (N, 3, H, W) current (target) frames.
            ref_imgs (Tensor): (N, 3, H, W) reference frames.
            metas (Sequence[dict]): one metainfo (with ``img_shape``) per pair, or one.

        Returns:
            Tensor: (N, 2, H/4, W/4) flow from the current to the reference frames.
        """
        return self.motion(torch.cat((imgs, ref_imgs), dim=1), list(metas), self.preprocess_cfg)

    @staticmethod
    def warp_to_current(ref_feat: Tensor, flow: Tensor, same_image: Sequence[bool]) -> Tensor:
        """Warp reference features onto the current frame.

        Where the reference *is* the current image (a still image used as its own
        reference, e.g. an ImageNet DET sample), the features are used unwarped -- the
        true flow is zero -- while the graph still reaches FlowNet (``+ 0 * warped``), as
        mmtrack's DFF does.

        Args:
            ref_feat (Tensor): (N, C, h, w) reference features.
            flow (Tensor): (N, 2, H_f, W_f) flow from the current to the reference frames.
            same_image (Sequence[bool]): N flags.

        Returns:
            Tensor: (N, C, h, w) warped features.
        """
        warped = flow_warp_feats(ref_feat, flow)
        if any(same_image):
            mask = torch.tensor(same_image, device=warped.device).view(-1, 1, 1, 1)
            warped = torch.where(mask, ref_feat + 0 * warped, warped)
        return warped

    @staticmethod
    def same_image(a: Sequence[DetDataSample], b: Sequence[DetDataSample]) -> List[bool]:
        """Per pair, whether both samples are the same image (same ``img_id``)."""
        flags = []
        for x, y in zip(a, b):
            id_x, id_y = x.metainfo.get('img_id'), y.metainfo.get('img_id')
            flags.append(id_x is not None and id_x == id_y)
        return flags

    @staticmethod
    def current_frame(inputs: Tensor, sample: TrackDataSample) -> Tuple[Tensor, DetDataSample]:
        """The current frame (1, 3, H, W) and its DetDataSample of a test sample."""
        idx = sample.key_frames_inds[0]
        return inputs[0, idx][None], sample[idx]

    def _train_feat(self, inputs: Tensor, data_samples: List[TrackDataSample]):
        """The target frames' training features (from the reference frames) and samples."""
        raise NotImplementedError

    def loss(self, inputs: Tensor, data_samples: List[TrackDataSample]) -> Dict[str, Tensor]:
        """Losses on the target frames from their flow-guided features.

        Args:
            inputs (Tensor): (N, T, C, H, W): the target and its reference frames (roles
                come from ``key_frames_inds`` / ``ref_frames_inds``).
            data_samples (list[TrackDataSample]): N samples.

        Returns:
            dict[str, Tensor]: RPN and RoI losses.
        """
        return self.head_loss(*self._train_feat(inputs, data_samples))

    def _forward(self, inputs: Tensor, data_samples: Optional[List[TrackDataSample]] = None):
        """Raw head outputs on the flow-guided features (training-sample semantics)."""
        if data_samples is None:
            raise ValueError(f'{type(self).__name__} needs data_samples in tensor mode')
        return self.head_forward(*self._train_feat(inputs, data_samples))


@MODELS.register_module()
class DFF(FlowGuidedVideoDetector):
    """Deep Feature Flow for video recognition (Zhu et al., CVPR 2017).

    Training, on ``[reference key frame, target]`` pairs (the sampler's reference is
    ``ref_frames_inds[0]``, the labelled target ``key_frames_inds[0]``): FlowNet computes
    the flow from the target to the key frame, the key frame's features N_f(key) are
    warped onto the target with it and the task head's loss is taken on the target
    frame; gradients reach FlowNet through the warp (end-to-end, as in the paper).

    Test (streaming, no look-ahead): frame t is a key frame when
    ``frame_id % test_cfg['key_frame_interval'] == 0`` (the first frame of each segment)
    or when no key frame of the video is cached; a key frame runs N_f and is cached
    (image + features); every other frame runs only FlowNet (against the cached key
    image) and warps the cached key features. The cache is dropped when a new video
    starts (``frame_id == 0`` or another ``video_id``).

    Args: see :class:`FlowGuidedVideoDetector`; ``test_cfg`` takes
        ``key_frame_interval`` (default 10).
    """

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        interval = self.test_cfg.get('key_frame_interval', 10)
        if not isinstance(interval, int) or interval < 1:
            raise ValueError(f'test_cfg.key_frame_interval must be an int >= 1, got {interval!r}')
        self.key_frame_interval = interval

    def extra_repr(self) -> str:
        return f'key_frame_interval={self.key_frame_interval}'

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

    def predict(self, inputs: Tensor, data_samples: List[TrackDataSample]) -> list:
        """Detect the current frame of a video stream (batch size 1).

        Args:
            inputs (Tensor): (1, T, C, H, W); only the current frame
                (``key_frames_inds[0]``) is used.
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
        if frame_id % self.key_frame_interval == 0 or 'key_feat' not in self.video_state:
            feat = self.extract_feat(img)
            self.video_state.update(key_img=img, key_feat=feat, key_frame_id=frame_id)
        else:
            state = self.video_state
            if state['key_img'].shape != img.shape:
                raise ValueError(
                    f'frame {frame_id} has shape {tuple(img.shape)} but its key frame '
                    f'{state["key_frame_id"]} {tuple(state["key_img"].shape)}'
                )
            flow = self.compute_flow(img, state['key_img'], [meta])
            feat = flow_warp_feats(state['key_feat'], flow)
        results = self.head_predict(feat, [det_sample], rescale=True)
        return self.add_pred_to_track_samples(data_samples, results)

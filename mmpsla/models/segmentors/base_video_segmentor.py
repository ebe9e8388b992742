"""Shared base of mmpsla's video segmentors (PSLA, frame baseline, DFF)."""

from typing import List, Optional, Sequence, Tuple

import torch
from mmengine.config import ConfigDict
from mmseg.models.segmentors import BaseSegmentor
from mmseg.models.utils import resize
from mmseg.utils import add_prefix
from torch import Tensor

from .scope import build_det_module, build_seg_module


class BaseVideoSegmentor(BaseSegmentor):
    """A video segmentor: a feature for the annotated frame, then mmseg's decode head.

    Inputs (contract of ``SegVideoDataPreProcessor`` / ``PackSegClipInputs``): ``inputs`` of
    shape (N, T, 3, H, W) and N ``SegDataSample`` of the *annotated* frame. Frame 0 of each
    clip is the annotated frame; frames 1..T-1 are key frames, in processing order. The
    metainfo ``is_key_frame`` (T booleans) says whether frame 0 is itself a key frame.

    * ``loss``: :meth:`train_feature` gives the annotated frame's feature (N, C, h, w) from
      the training clip ([n, k1, k2] for PSLA, [n, k] for DFF, [n] for the baseline); the
      decode head's loss (mmseg's ``loss_by_feat``: logits resized to the label map, its
      ``loss_decode``) is taken on it, keys prefixed ``decode.``.
    * ``predict``: per sample, the video state is reset, the key frames 1..T-1 are fed
      through :meth:`frame_feature` in order (building F_t / caching the key frame), then
      frame 0; the decode head's logits are resized to the padded input
      (``predict_by_feat``) and :meth:`postprocess_result` removes the padding, undoes a
      flip and resizes to ``ori_shape``.
    * :meth:`frame_feature` is also the streaming interface the fps benchmark uses: one
      frame (1, 3, H, W) and whether it is a key frame -> its feature for the head.

    Args:
        backbone (dict): mmdet-registry backbone (``PSLAResNet``: N_f, and N_l for PSLA).
        decode_head (dict): mmseg decode head (``ASPPHead``, or ``FCNHead`` as DFF's
            DeepLab head); its ``in_channels`` must be the backbone's ``feat_channels``.
        train_cfg (dict, optional): passed to the decode head's loss.
        test_cfg (dict, optional): mmseg's test config; only ``mode='whole'`` is supported.
        data_preprocessor (dict, optional): Defaults to ``SegVideoDataPreProcessor``.
        init_cfg (dict | list, optional): Initialisation config.
    """

    #: Whether :meth:`predict` feeds the key frames of a test clip (the frame baseline
    #: only needs the annotated frame).
    uses_key_frames = True

    def __init__(
        self,
        backbone: dict,
        decode_head: dict,
        train_cfg: Optional[dict] = None,
        test_cfg: Optional[dict] = None,
        data_preprocessor: Optional[dict] = None,
        init_cfg=None,
    ) -> None:
        if data_preprocessor is None:
            data_preprocessor = dict(type='SegVideoDataPreProcessor')
        super().__init__(data_preprocessor=build_seg_module(data_preprocessor), init_cfg=init_cfg)
        self.backbone = build_det_module(backbone)
        self.decode_head = build_seg_module(decode_head)
        self.align_corners = self.decode_head.align_corners
        self.num_classes = self.decode_head.num_classes
        self.out_channels = self.decode_head.out_channels
        test_cfg = ConfigDict(test_cfg or dict(mode='whole'))
        if test_cfg.get('mode', 'whole') != 'whole':
            raise ValueError(
                f'{type(self).__name__} supports test_cfg.mode="whole" only (a video '
                f'segmentor keeps per-frame state), got {test_cfg.get("mode")!r}'
            )
        self.train_cfg = train_cfg
        self.test_cfg = test_cfg
        self.video_state: dict = {}

    # ------------------------------------------------------------------ features
    def extract_feat(self, inputs: Tensor) -> Tensor:
        """N_f on single frames: (N, 3, H, W) -> F_h (N, C, H/16, W/16)."""
        return self.backbone(inputs)

    def train_feature(self, inputs: Tensor, data_samples: Optional[list]) -> Tensor:
        """The annotated frames' features (N, C, h, w) of training clips (N, T, 3, H, W)."""
        raise NotImplementedError

    def frame_feature(self, img: Tensor, is_key: bool) -> Tensor:
        """Streaming step: frame (1, 3, H, W) -> its feature (1, C, h, w); updates state."""
        raise NotImplementedError

    def reset_video_state(self) -> None:
        """Forget the temporal feature / cached key frame."""
        self.video_state = {}

    def clip_feature(self, clip: Tensor, is_key_frame: Sequence[bool]) -> Tensor:
        """Feature of a test clip's annotated frame (frame 0), from a fresh video state.

        Args:
            clip (Tensor): (T, 3, H, W): the annotated frame, then the key frames in order.
            is_key_frame (Sequence[bool]): T flags; frames 1..T-1 must be key frames.

        Returns:
            Tensor: (1, C, h, w).
        """
        flags = [bool(f) for f in is_key_frame]
        if len(flags) != clip.size(0):
            raise ValueError(
                f'is_key_frame has {len(flags)} entries for a clip of {clip.size(0)} frames'
            )
        if not all(flags[1:]):
            raise ValueError(
                f'frames 1..T-1 of a test clip must be key frames, got is_key_frame={flags}'
            )
        self.reset_video_state()
        if self.uses_key_frames:
            for t in range(1, clip.size(0)):
                self.frame_feature(clip[t : t + 1], True)
        return self.frame_feature(clip[:1], flags[0])

    @staticmethod
    def _check_clips(inputs: Tensor) -> None:
        if inputs.dim() != 5:
            raise ValueError(
                f'inputs must be clips of shape (N, T, 3, H, W), got {tuple(inputs.shape)}'
            )

    # ------------------------------------------------------------------ mmseg API
    def encode_decode(self, inputs: Tensor, batch_img_metas: List[dict]) -> Tensor:
        """Logits of the annotated frames, resized to the (padded) input size.

        Args:
            inputs (Tensor): (N, T, 3, H, W) test clips.
            batch_img_metas (list[dict]): N metainfo dicts with ``is_key_frame``.

        Returns:
            Tensor: (N, num_classes, H, W).
        """
        self._check_clips(inputs)
        logits = []
        for clip, meta in zip(inputs, batch_img_metas):
            flags = meta.get('is_key_frame', [False] + [True] * (clip.size(0) - 1))
            feat = self.clip_feature(clip, flags)
            logits.append(self.decode_head.predict((feat,), [meta], self.test_cfg))
        return torch.cat(logits, dim=0)

    def loss(self, inputs: Tensor, data_samples: list) -> dict:
        """Decode-head losses on the annotated frames (``decode.loss_ce``, ...)."""
        self._check_clips(inputs)
        feat = self.train_feature(inputs, data_samples)
        losses = self.decode_head.loss((feat,), data_samples, self.train_cfg)
        return add_prefix(losses, 'decode')

    def predict(self, inputs: Tensor, data_samples: Optional[list] = None) -> list:
        """Segment the annotated frame of each test clip (see the class docstring).

        Returns:
            list[SegDataSample]: with ``seg_logits`` / ``pred_sem_seg`` at ``ori_shape``.
        """
        self._check_clips(inputs)
        if data_samples is not None:
            metas = [sample.metainfo for sample in data_samples]
        else:
            shape = inputs.shape[-2:]
            metas = [
                dict(ori_shape=shape, img_shape=shape, pad_shape=shape, padding_size=[0] * 4)
            ] * inputs.size(0)
        logits = self.encode_decode(inputs, metas)
        return self.postprocess_result(logits, data_samples)

    def _forward(self, inputs: Tensor, data_samples: Optional[list] = None) -> Tensor:
        """Raw decode-head logits (N, num_classes, h, w) on training-clip features."""
        self._check_clips(inputs)
        return self.decode_head.forward((self.train_feature(inputs, data_samples),))

    def seg_logits_at(self, feat: Tensor, size: Tuple[int, int]) -> Tensor:
        """Decode-head logits of ``feat`` resized to ``size`` (streaming output)."""
        logits = self.decode_head.forward((feat,))
        return resize(logits, size=size, mode='bilinear', align_corners=self.align_corners)

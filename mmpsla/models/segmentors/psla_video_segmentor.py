"""PSLA video semantic segmentation (paper Sec. 4.4): the detector's framework, DeepLab head."""

from typing import Optional

import torch
from mmseg.registry import MODELS
from mmseg.utils import add_prefix
from torch import Tensor

from .base_video_segmentor import BaseVideoSegmentor
from .scope import build_det_module


@MODELS.register_module()
class PSLAVideoSegmentor(BaseVideoSegmentor):
    """PSLA's key-frame framework with an mmseg decode head (DeepLabV3 ``ASPPHead``).

    Key frames run N_f (``backbone.forward``: ResNet DC5 + 1024-channel feature conv) and
    update the temporal feature F_t with RFU (Eq. 6); non-key frames run the prefix N_l
    (``backbone.forward_low``, up to res4b3) and DenseFT propagates F_t to them (Transform
    Net, PSLA Eqs. 1-5, Quality Net). The decode head N_t reads F_t at key frames and
    DenseFT's output elsewhere.

    Methods (paper Tables 2/5): (a) ``use_rfu=False, use_quality_net=False``;
    (b) ``use_rfu=True, use_quality_net=False``; (c) both True (default).

    Training clips ``[n, k1, k2]`` (``SegClipFrameSample``, n the annotated frame):
    F_t = F_h^{k1}, F_t <- RFU(F_h^{k2}, F_t), feature of n = DenseFT(F_l^n, F_t); without
    RFU the clip is ``[n, k]`` (or its last frame is used) and F_t = F_h^{k}. The loss is
    on n only, as in the paper. ``key_frame_loss_weight > 0`` adds the loss on n processed
    as a key frame (N_f + RFU with the same F_t), keys prefixed ``key.`` -- an option for
    training N_f from scratch (CityScapes labels exist for the annotated frame only, so
    this is where a key-frame feature can be supervised).

    Args:
        backbone (dict): ``PSLAResNet`` config.
        decode_head (dict): mmseg decode head config (``in_channels`` = feat channels).
        dense_ft (dict): ``DenseFT`` config (``use_quality_net`` set from this class).
        rfu (dict, optional): ``RFU`` config, required with ``use_rfu``.
        use_rfu (bool): Defaults to True.
        use_quality_net (bool): Defaults to True.
        key_frame_loss_weight (float): Defaults to 0.0 (the paper's recipe).
        train_cfg, test_cfg, data_preprocessor, init_cfg: see :class:`BaseVideoSegmentor`.
    """

    def __init__(
        self,
        backbone: dict,
        decode_head: dict,
        dense_ft: dict,
        rfu: Optional[dict] = None,
        use_rfu: bool = True,
        use_quality_net: bool = True,
        key_frame_loss_weight: float = 0.0,
        train_cfg: Optional[dict] = None,
        test_cfg: Optional[dict] = None,
        data_preprocessor: Optional[dict] = None,
        init_cfg=None,
    ) -> None:
        super().__init__(
            backbone=backbone,
            decode_head=decode_head,
            train_cfg=train_cfg,
            test_cfg=test_cfg,
            data_preprocessor=data_preprocessor,
            init_cfg=init_cfg,
        )
        for name in ('forward_low', 'forward_high'):
            if not hasattr(self.backbone, name):
                raise ValueError(
                    f'backbone must provide {name}() (the N_l / N_f split, e.g. PSLAResNet), '
                    f'got {type(self.backbone).__name__}'
                )
        if not key_frame_loss_weight >= 0:
            raise ValueError(f'key_frame_loss_weight must be >= 0, got {key_frame_loss_weight!r}')
        self.use_rfu = use_rfu
        self.use_quality_net = use_quality_net
        self.key_frame_loss_weight = float(key_frame_loss_weight)
        if use_rfu and rfu is None:
            raise ValueError('rfu config is required when use_rfu=True')
        self.rfu = build_det_module(rfu) if use_rfu else None
        dense_ft = dict(dense_ft)
        dense_ft['use_quality_net'] = use_quality_net
        self.dense_ft = build_det_module(dense_ft)

    # ------------------------------------------------------------------ training
    def _train_temporal(self, inputs: Tensor) -> Tensor:
        """F_t from the key frames of training clips (N, T, 3, H, W) -> (N, C, h, w)."""
        if inputs.size(1) < 2:
            raise ValueError(
                'PSLA training clips need the annotated frame and its key frame(s) '
                f'([n, k1, k2] with RFU, [n, k] without), got T={inputs.size(1)}; use '
                'SegClipFrameSample with num_key_frames=2 (1 without RFU)'
            )
        if not self.use_rfu:
            return self.backbone(inputs[:, -1])
        if inputs.size(1) != 3:
            raise ValueError(
                f'PSLA training with RFU needs clips [n, k1, k2], got T={inputs.size(1)}'
            )
        n = inputs.size(0)
        feats = self.backbone(torch.cat((inputs[:, 1], inputs[:, 2]), dim=0))
        return self.rfu(feats[n:], feats[:n])

    def train_feature(self, inputs: Tensor, data_samples: Optional[list] = None) -> Tensor:
        """DenseFT(F_l^n, F_t): the annotated frame's feature (N, C, h, w)."""
        temporal = self._train_temporal(inputs)
        return self.dense_ft(self.backbone.forward_low(inputs[:, 0]), temporal)

    def loss(self, inputs: Tensor, data_samples: list) -> dict:
        """Decode losses on n (``decode.*``) [+ on n as a key frame, ``key.*``]."""
        self._check_clips(inputs)
        temporal = self._train_temporal(inputs)
        feat = self.dense_ft(self.backbone.forward_low(inputs[:, 0]), temporal)
        losses = add_prefix(self.decode_head.loss((feat,), data_samples, self.train_cfg), 'decode')
        if self.key_frame_loss_weight > 0:
            key_feat = self.backbone(inputs[:, 0])
            if self.use_rfu:
                key_feat = self.rfu(key_feat, temporal)
            key_losses = self.decode_head.loss((key_feat,), data_samples, self.train_cfg)
            for name, value in key_losses.items():
                if name.startswith('loss'):
                    value = value * self.key_frame_loss_weight
                losses[f'key.{name}'] = value
        return losses

    # ------------------------------------------------------------------ streaming / test
    def frame_feature(self, img: Tensor, is_key: bool) -> Tensor:
        """Key frame: N_f (+ RFU) -> new F_t; non-key: DenseFT(N_l(img), F_t).

        Args:
            img (Tensor): (1, 3, H, W).
            is_key (bool): Whether the frame is a key frame.

        Returns:
            Tensor: (1, C, H/16, W/16).
        """
        if is_key:
            feat = self.backbone(img)
            if self.use_rfu:
                feat = self.rfu(feat, self.video_state.get('temporal'))
            self.video_state['temporal'] = feat
            return feat
        if 'temporal' not in self.video_state:
            raise RuntimeError(
                'a non-key frame came before any key frame: test clips must carry their key '
                'frame(s) (SegKeyFrameSchedule in the test pipeline)'
            )
        state = self.video_state
        key = self.dense_ft.cached_temporal_key(state)  # f(F_t) once per key frame
        return self.dense_ft(self.backbone.forward_low(img), state['temporal'], temporal_key=key)

    def extra_repr(self) -> str:
        return (
            f'use_rfu={self.use_rfu}, use_quality_net={self.use_quality_net}, '
            f'key_frame_loss_weight={self.key_frame_loss_weight}'
        )

"""Deep Feature Flow (Zhu et al., CVPR 2017) for video segmentation, on the shared head."""

from typing import Optional

import torch
from mmseg.registry import MODELS
from torch import Tensor

from ..motion import flow_warp_feats
from .base_video_segmentor import BaseVideoSegmentor
from .scope import build_det_module


@MODELS.register_module()
class DFFSegmentor(BaseVideoSegmentor):
    """DFF: N_f on key frames, FlowNet-S flow + bilinear warping of the key feature elsewhere.

    Training clips ``[n, k]`` (``SegClipFrameSample(num_key_frames=1)``): the flow from n to
    k (FlowNet on ``[n, k]``) warps F_h^k onto n and the decode loss is taken there; the
    gradient reaches FlowNet through the warp. Where k is n itself the feature is used
    unwarped (the true flow is zero) while FlowNet stays in the graph (``+ 0 * warped``).
    Test: the key frame (the clip's last key frame) is cached with its feature; a
    non-key frame runs FlowNet against it and warps the cached feature.

    Args:
        backbone (dict): Feature network N_f (``PSLAResNet``, as for PSLA).
        decode_head (dict): mmseg decode head.
        motion (dict): Flow network config (``FlowNetSimple``).
        train_cfg, test_cfg, data_preprocessor, init_cfg: see :class:`BaseVideoSegmentor`.
    """

    def __init__(
        self,
        backbone: dict,
        decode_head: dict,
        motion: dict,
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
        self.motion = build_det_module(motion)

    @property
    def preprocess_cfg(self) -> Optional[dict]:
        """Mean/std the data pre-processor normalised with (FlowNet undoes them)."""
        dp = self.data_preprocessor
        if not getattr(dp, '_enable_normalize', False):
            return None
        return dict(mean=dp.mean.reshape(-1), std=dp.std.reshape(-1))

    def warped_feature(self, img: Tensor, key_img: Tensor, key_feat: Tensor) -> Tensor:
        """F_h^k warped onto ``img`` with FlowNet's flow from ``img`` to ``key_img``.

        Args:
            img (Tensor): (N, 3, H, W) current frames.
            key_img (Tensor): (N, 3, H, W) key frames.
            key_feat (Tensor): (N, C, h, w) their features.

        Returns:
            Tensor: (N, C, h, w).
        """
        metas = [dict(img_shape=tuple(img.shape[-2:]))] * img.size(0)
        flow = self.motion(torch.cat((img, key_img), dim=1), metas, self.preprocess_cfg)
        return flow_warp_feats(key_feat, flow)

    def train_feature(self, inputs: Tensor, data_samples: Optional[list] = None) -> Tensor:
        """Warped key-frame features on the annotated frames of ``[n, k]`` clips."""
        if inputs.size(1) != 2:
            raise ValueError(
                f'DFF trains on clips [n, k] (T=2), got T={inputs.size(1)}; use '
                'SegClipFrameSample with num_key_frames=1'
            )
        img, key_img = inputs[:, 0], inputs[:, 1]
        key_feat = self.backbone(key_img)
        warped = self.warped_feature(img, key_img, key_feat)
        same = torch.tensor([torch.equal(a, b) for a, b in zip(img, key_img)], device=img.device)
        return torch.where(same.view(-1, 1, 1, 1), key_feat + 0 * warped, warped)

    def frame_feature(self, img: Tensor, is_key: bool) -> Tensor:
        """Key frame: N_f, cached; non-key: FlowNet + warp of the cached key feature."""
        if is_key:
            feat = self.backbone(img)
            self.video_state.update(key_img=img, key_feat=feat)
            return feat
        if 'key_feat' not in self.video_state:
            raise RuntimeError(
                'a non-key frame came before any key frame: test clips must carry their key '
                'frame (SegKeyFrameSchedule in the test pipeline)'
            )
        return self.warped_feature(img, self.video_state['key_img'], self.video_state['key_feat'])

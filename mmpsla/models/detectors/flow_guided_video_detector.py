"""The parts DFF and FGFA share: FlowNet on frame pairs and flow-guided warping."""

from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
from mmdet.registry import MODELS
from mmdet.structures import DetDataSample, TrackDataSample
from torch import Tensor

from ..motion import flow_warp_feats
from .mmtrack_style_detector import MMTrackStyleVideoDetector


class FlowGuidedVideoDetector(MMTrackStyleVideoDetector):
    """Base of the flow-guided baselines (DFF, FGFA), with mmtrack 1.x's config fields.

    Adds to :class:`MMTrackStyleVideoDetector` (``detector`` config, N_f, N_t, frozen
    modules, mmtrack checkpoint keys) the flow network ``motion`` (FlowNet-S, params
    ``motion.*``), :meth:`compute_flow` on ``[current, reference]`` pairs and
    :meth:`warp_to_current`.

    Args:
        detector (dict): see :class:`MMTrackStyleVideoDetector`.
        motion (dict): flow network config (``FlowNetSimple``).
        train_cfg, test_cfg, frozen_modules, data_preprocessor, init_cfg: see
            :class:`MMTrackStyleVideoDetector`.
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
        super().__init__(
            detector=detector,
            train_cfg=train_cfg,
            test_cfg=test_cfg,
            frozen_modules=frozen_modules,
            data_preprocessor=data_preprocessor,
            init_cfg=init_cfg,
        )
        self.motion = MODELS.build(motion)

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

"""The frame baseline of Table 6: N_f and the decode head on every frame."""

from typing import Optional

from mmseg.registry import MODELS
from torch import Tensor

from .base_video_segmentor import BaseVideoSegmentor


@MODELS.register_module()
class FrameBaselineSegmentor(BaseVideoSegmentor):
    """Per-frame segmentation: N_f (the same backbone as PSLA) + the decode head.

    Trains and tests on the annotated frame (frame 0 of each clip) alone; key frames in
    a clip are ignored (configs give it clips of one frame).
    """

    uses_key_frames = False

    def train_feature(self, inputs: Tensor, data_samples: Optional[list] = None) -> Tensor:
        """N_f of the annotated frames: (N, T, 3, H, W) -> (N, C, h, w)."""
        return self.backbone(inputs[:, 0])

    def frame_feature(self, img: Tensor, is_key: bool) -> Tensor:
        """N_f of every frame: (1, 3, H, W) -> (1, C, h, w)."""
        return self.backbone(img)

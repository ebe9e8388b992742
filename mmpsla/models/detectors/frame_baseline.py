"""Frame-by-frame baseline: the same N_f and task head as PSLA, no temporal information."""

from typing import List, Optional

from mmdet.registry import MODELS
from mmdet.structures import TrackDataSample
from torch import Tensor

from .base_video_detector import BaseVideoDetector, run_batched


@MODELS.register_module()
class FrameBaselineDetector(BaseVideoDetector):
    """Runs N_f + N_t on every frame independently.

    Trains on the labelled frame only (``key_frames_inds``; PSLA's [k1, k2, n] samples work,
    their reference frames are ignored). At test time the current frame
    (``key_frames_inds[0]``) is detected and any attached key frame ignored; it keeps no
    state, so any batch size works (frames of one video or of several).

    Args:
        backbone (dict): Backbone config returning one (N, C, h, w) map (e.g. ``PSLAResNet``).
        rpn_head, roi_head, train_cfg, test_cfg, data_preprocessor, init_cfg: See
            :class:`BaseVideoDetector`.
    """

    def __init__(
        self,
        backbone: dict,
        rpn_head: dict,
        roi_head: dict,
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

    def extract_feat(self, img: Tensor) -> Tensor:
        """N_f: (N, 3, H, W) -> (N, C, h, w)."""
        feat = self.backbone(img)
        return feat[-1] if isinstance(feat, (tuple, list)) else feat

    def _current(self, inputs: Tensor, data_samples: List[TrackDataSample]):
        (img,), (samples,) = self.get_frames(inputs, data_samples, 'key')
        return self.extract_feat(img), samples

    def loss(self, inputs: Tensor, data_samples: List[TrackDataSample]) -> dict:
        """Losses on the labelled frame of each sample."""
        return self.head_loss(*self._current(inputs, data_samples))

    def predict(self, inputs, data_samples: List[TrackDataSample]) -> list:
        """Detections of each sample's current frame (original-image coordinates).

        Args:
            inputs (Tensor | list[Tensor]): (N, T, C, H, W), or N clips of their own
                length / size (:meth:`~BaseVideoDetector.split_clips`); frames of one
                size run as one batch.
            data_samples (list[TrackDataSample]): N samples (any videos: no state).
        """
        clips = self.split_clips(inputs, data_samples)
        frames = [(clip[:, s.key_frames_inds[0]],) for clip, s in zip(clips, data_samples)]
        results = run_batched(
            frames,
            lambda inds, img: self.head_predict(
                self.extract_feat(img),
                [data_samples[i][data_samples[i].key_frames_inds[0]] for i in inds],
            ),
        )
        return self.add_pred_to_track_samples(data_samples, [r[0] for r in results])

    def _forward(self, inputs: Tensor, data_samples: Optional[List[TrackDataSample]] = None):
        """Raw head outputs of the current frames."""
        if data_samples is None:
            raise ValueError('FrameBaselineDetector needs data_samples in tensor mode')
        return self.head_forward(*self._current(inputs, data_samples))

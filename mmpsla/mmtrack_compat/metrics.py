"""mmtrack 1.x's ``CocoVideoMetric``: COCO box AP of the frames a video detector predicted."""

from typing import Sequence

from mmdet.evaluation import CocoMetric
from mmdet.evaluation import CocoVideoMetric as _MMDetCocoVideoMetric

from .registry import METRICS


@METRICS.register_module(name='CocoVideoMetric')
class MMTrackCocoVideoMetric(_MMDetCocoVideoMetric):
    """mmdet 3.3's ``CocoVideoMetric`` scoring each sample's *current* frame.

    A VID test sample is one current frame plus the reference frames the sampler attached
    (FGFA, SELSA); mmpsla's detectors put ``pred_instances`` on the current frame
    (``key_frames_inds[0]``) only, so only that frame is scored -- exactly once per frame
    of the video, as mmtrack does. COCO-style AP (``bbox_mAP_50`` is mmtrack's reported
    AP@50); the ImageNet VID devkit's numbers come from ``VIDMetric``.
    """

    def process(self, data_batch: dict, data_samples: Sequence[dict]) -> None:
        """Add the current frame of every sample to the results."""
        for sample in data_samples:
            frames = sample['video_data_samples']
            inds = sample.get('key_frames_inds') or [len(frames) - 1]
            current = frames[inds[0]]
            current = current.to_dict() if hasattr(current, 'to_dict') else current
            CocoMetric.process(self, data_batch, [current])

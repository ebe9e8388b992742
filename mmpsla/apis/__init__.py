"""High-level APIs: build a video detector, run it over a video, measure it."""

from .benchmark import count_parameters, measure_fps
from .inference import build_test_pipeline, inference_vid, init_model, video_length
from .visualization import draw_detections, write_video

__all__ = [
    'init_model',
    'inference_vid',
    'build_test_pipeline',
    'count_parameters',
    'measure_fps',
    'draw_detections',
    'write_video',
    'video_length',
]

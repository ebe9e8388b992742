"""High-level APIs: build a video detector, run it over a video, measure it."""

from .annotate import annotate_video
from .benchmark import count_parameters, measure_fps
from .frame_sources import FrameSource, video_fps, video_length
from .inference import inference_vid, init_model, predict_frame, predict_frames
from .test_pipeline import build_test_pipeline
from .video_inference import inference_video, inference_videos
from .visualization import VideoWriter, draw_detections, write_video

__all__ = [
    'init_model',
    'annotate_video',
    'VideoWriter',
    'video_fps',
    'inference_vid',
    'inference_video',
    'inference_videos',
    'predict_frame',
    'predict_frames',
    'build_test_pipeline',
    'FrameSource',
    'count_parameters',
    'measure_fps',
    'draw_detections',
    'write_video',
    'video_length',
]

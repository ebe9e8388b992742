"""CocoVID converters (used by tools/dataset_converters): ILSVRC (ImageNet VID / DET) and
the simple per-video layout of custom data."""

from .custom_vid import convert_custom_vid, export_custom_csv, extract_videos, list_video_frames
from .imagenet_det import convert_det, list_det_images
from .imagenet_vid import convert_vid, list_vid_videos

__all__ = [
    'convert_vid',
    'convert_det',
    'convert_custom_vid',
    'export_custom_csv',
    'extract_videos',
    'list_vid_videos',
    'list_det_images',
    'list_video_frames',
]

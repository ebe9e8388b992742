"""ILSVRC (ImageNet VID / DET) to CocoVID converters (used by tools/dataset_converters)."""

from .imagenet_det import convert_det, list_det_images
from .imagenet_vid import convert_vid, list_vid_videos

__all__ = [
    'convert_vid',
    'convert_det',
    'evenly_spaced_frames',
    'list_vid_videos',
    'list_det_images',
]

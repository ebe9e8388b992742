"""Datasets, frame samplers and the toy VID generator of mmpsla."""

import importlib.util

from .cocovid_utils import evenly_spaced_frames, format_statistics, vid_statistics
from .imagenet_vid_dataset import ImagenetVIDDataset
from .samplers import TargetFrameSampler
from .toy_vid import TOY_CLASSES, make_toy_vid
from .toy_vid_dataset import ToyVIDDataset
from .transforms import PSLAKeyFrameSchedule, PSLATrainFrameSample, VIDRefFrameSample
from .vid_classes import VID_CLASSES, VID_WNIDS
from .video_concat_dataset import VideoConcatDataset

__all__ = [
    'ImagenetVIDDataset',
    'ToyVIDDataset',
    'VideoConcatDataset',
    'TargetFrameSampler',
    'PSLATrainFrameSample',
    'PSLAKeyFrameSchedule',
    'VIDRefFrameSample',
    'make_toy_vid',
    'vid_statistics',
    'format_statistics',
    'evenly_spaced_frames',
    'TOY_CLASSES',
    'VID_CLASSES',
    'VID_WNIDS',
]

if importlib.util.find_spec('mmseg') is not None:  # CityScapes video segmentation (mmseg)
    from . import cityscapes_video_transforms, toy_seg  # noqa: F401
    from .cityscapes_video import CityscapesVideoDataset  # noqa: F401

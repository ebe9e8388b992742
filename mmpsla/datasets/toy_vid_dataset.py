"""The procedural toy VID dataset (see :mod:`mmpsla.datasets.toy_vid`)."""

from mmdet.registry import DATASETS

from .imagenet_vid_dataset import ImagenetVIDDataset
from .toy_vid import TOY_CLASSES


@DATASETS.register_module()
class ToyVIDDataset(ImagenetVIDDataset):
    """The toy VID set, loaded through exactly the ImageNet VID code path.

    Only the classes differ (:data:`~mmpsla.datasets.toy_vid.TOY_CLASSES`); each frame's
    data info also carries the toy set's ``is_degraded`` and ``degradation``.
    Generate the data with ``python tools/make_toy_vid.py --out data/toy_vid``.
    """

    METAINFO = {'classes': TOY_CLASSES}

"""The toy video-segmentation set (see :mod:`mmpsla.datasets.toy_seg.generator`)."""

from mmseg.registry import DATASETS

from ..cityscapes_video import CityscapesVideoDataset
from .generator import TOY_SEG_CLASSES, TOY_SEG_PALETTE


@DATASETS.register_module()
class ToySegVideoDataset(CityscapesVideoDataset):
    """The toy set, read through exactly the CityScapes video code path.

    Only the classes differ; ``degraded_file`` defaults to the generator's
    ``toy_seg_meta.json``, so every frame knows whether it is degraded. Generate the data
    with ``python tools/make_toy_seg.py --out data/toy_seg``.
    """

    METAINFO = dict(classes=TOY_SEG_CLASSES, palette=TOY_SEG_PALETTE)

    def __init__(self, degraded_file: str = 'toy_seg_meta.json', **kwargs) -> None:
        super().__init__(degraded_file=degraded_file, **kwargs)

"""mmdet's single-level RoI extractor, with its RoI layer taken from :mod:`mmpsla.ops`."""

from mmdet.models.roi_heads.roi_extractors import SingleRoIExtractor
from mmdet.registry import MODELS

from mmpsla import ops


@MODELS.register_module()
class OpsSingleRoIExtractor(SingleRoIExtractor):
    """``SingleRoIExtractor`` whose ``roi_layer`` type is looked up in :mod:`mmpsla.ops`
    first (``RoIAlign``: the compiled CPU kernel, :func:`mmpsla.ops.roi_align`; mmcv's kernel
    on CUDA), then in ``mmcv.ops`` like mmdet's. Same config, same numbers as mmdet's
    extractor with ``mmcv.ops.RoIAlign``; on the CPU 4.6x faster for the toy head and 8.6x
    (one thread) / 14.9x (two) for a ResNet-101 DC5 head (``benchmarks/bench_roi_align.py``).
    """

    def build_roi_layers(self, layer_cfg, featmap_strides):
        cfg = dict(layer_cfg)
        layer_type = cfg.get('type')
        if isinstance(layer_type, str) and hasattr(ops, layer_type):
            cfg['type'] = getattr(ops, layer_type)
        return super().build_roi_layers(cfg, featmap_strides)

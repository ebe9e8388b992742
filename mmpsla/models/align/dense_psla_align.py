"""DensePSLA: PSLA's softmax over every position of the (2d+1)^2 window (paper Sec. 4.3)."""

from mmdet.registry import MODELS

from mmpsla.ops import dense_offsets

from .local_align import LocalOffsetAlign


@MODELS.register_module()
class DensePSLAAlign(LocalOffsetAlign):
    """Softmax attention over the dense (2d+1) x (2d+1) window.

    Args: see :class:`LocalOffsetAlign` (``in_channels``, ``embed_channels``,
    ``max_displacement``, ...).
    """

    offset_set = staticmethod(dense_offsets)
    normalize = 'softmax'

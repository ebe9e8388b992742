"""Progressive Sparse Local Attention alignment (paper Sec. 3.2)."""

from mmdet.registry import MODELS

from mmpsla.ops import psla_offsets

from .local_align import LocalOffsetAlign


@MODELS.register_module()
class PSLAAlign(LocalOffsetAlign):
    """PSLA: softmax attention over the progressively sparser offsets Phi_0..Phi_d.

    1 + 8d positions per query cell (33 for d = 4), Eqs. 1-5 of the paper.

    Args: see :class:`LocalOffsetAlign` (``in_channels``, ``embed_channels``,
    ``max_displacement``, ...).
    """

    offset_set = staticmethod(psla_offsets)
    normalize = 'softmax'

"""Progressive Sparse Local Attention alignment (paper Sec. 3.2)."""

from mmdet.registry import MODELS

from mmpsla.ops import psla_offsets

from .local_align import LocalOffsetAlign, _check_displacement


@MODELS.register_module()
class PSLAAlign(LocalOffsetAlign):
    """PSLA: softmax attention over the progressively sparser offsets Phi_0..Phi_d.

    1 + 8d positions per query cell (33 for d = 4), Eqs. 1-5 of the paper.

    Args:
        in_channels (int): Channels of the features.
        embed_channels (int): Filters of the 1x1 embeddings f, g. Defaults to 256.
        max_displacement (int): d. Defaults to 4.
        **kwargs: ``query_channels``, ``scale`` (see :class:`BaseAlign`).
    """

    def __init__(
        self, in_channels: int, embed_channels: int = 256, max_displacement: int = 4, **kwargs
    ) -> None:
        d = _check_displacement(max_displacement)
        super().__init__(
            offsets=psla_offsets(d),
            normalize='softmax',
            max_displacement=d,
            in_channels=in_channels,
            embed_channels=embed_channels,
            **kwargs,
        )

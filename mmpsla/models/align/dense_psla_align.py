"""DensePSLA: PSLA's softmax over every position of the (2d+1)^2 window (paper Sec. 4.3)."""

from mmdet.registry import MODELS

from mmpsla.ops import dense_offsets

from .local_align import LocalOffsetAlign, _check_displacement


@MODELS.register_module()
class DensePSLAAlign(LocalOffsetAlign):
    """Softmax attention over the dense (2d+1) x (2d+1) window.

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
            offsets=dense_offsets(d),
            normalize='softmax',
            max_displacement=d,
            in_channels=in_channels,
            embed_channels=embed_channels,
            **kwargs,
        )

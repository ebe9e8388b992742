"""MatchTrans (STMN, Xiao & Lee 2018) alignment: sum-normalised dense local affinities."""

from mmdet.registry import MODELS

from mmpsla.ops import dense_offsets

from .local_align import LocalOffsetAlign, _check_displacement


@MODELS.register_module()
class MatchTransAlign(LocalOffsetAlign):
    """Dense (2d+1)^2 window, weights = affinity / sum of affinities.

    The embeddings go through a ReLU so that the affinities are non-negative, as the sum
    normalisation requires.

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
        kwargs.setdefault('nonneg_embed', True)
        super().__init__(
            offsets=dense_offsets(d),
            normalize='sum',
            max_displacement=d,
            in_channels=in_channels,
            embed_channels=embed_channels,
            **kwargs,
        )

    def init_weights(self) -> None:
        """Positive-mean init so that the ReLU'd embeddings are not all zero at the start."""
        super().init_weights()
        for conv in (self.query_embed, self.key_embed):
            conv.bias.data.fill_(0.1)

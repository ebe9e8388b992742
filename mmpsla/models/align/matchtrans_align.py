"""MatchTrans (STMN, Xiao & Lee 2018) alignment: sum-normalised dense local affinities."""

from mmdet.registry import MODELS

from mmpsla.ops import dense_offsets

from .local_align import LocalOffsetAlign


@MODELS.register_module()
class MatchTransAlign(LocalOffsetAlign):
    """Dense (2d+1)^2 window, weights = affinity / sum of affinities.

    The embeddings go through a ReLU so that the affinities are non-negative, as the sum
    normalisation requires.

    Args: see :class:`LocalOffsetAlign` (``in_channels``, ``embed_channels``,
    ``max_displacement``, ...).
    """

    offset_set = staticmethod(dense_offsets)
    normalize = 'sum'

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault('nonneg_embed', True)
        super().__init__(*args, **kwargs)

    def init_weights(self) -> None:
        """Positive-mean init so that the ReLU'd embeddings are not all zero at the start."""
        super().init_weights()
        for conv in (self.query_embed, self.key_embed):
            conv.bias.data.fill_(0.1)

"""Feature aggregators for the FGFA baseline."""

from .embed_aggregator import EmbedAggregator

__all__ = ['EmbedAggregator']

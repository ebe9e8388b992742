"""Feature aggregators of the baselines: FGFA (pixel level), SELSA (proposal level)."""

from .embed_aggregator import EmbedAggregator
from .selsa_aggregator import SelsaAggregator

__all__ = ['EmbedAggregator', 'SelsaAggregator']

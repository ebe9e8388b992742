"""Feature-alignment modules, one interface ``forward(query_feat, ref_feat)``."""

from .base_align import BaseAlign
from .dense_psla_align import DensePSLAAlign
from .local_align import LocalOffsetAlign
from .matchtrans_align import MatchTransAlign
from .nonlocal_align import NonLocalAlign
from .psla_align import PSLAAlign

__all__ = [
    'BaseAlign',
    'LocalOffsetAlign',
    'PSLAAlign',
    'DensePSLAAlign',
    'MatchTransAlign',
    'NonLocalAlign',
]

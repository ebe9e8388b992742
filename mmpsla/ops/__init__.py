"""Progressive Sparse Local Attention operator (needs torch only).

* :func:`sparse_local_attention`: the compiled op (C++ CPU / CUDA kernels, torch custom
  op with autograd), falling back to the reference when ``mmpsla._ext`` is not built;
* :func:`sparse_local_attention_reference`: the same function in plain PyTorch;
* :func:`psla_offsets` / :func:`dense_offsets`: the PSLA and the dense offset sets.
"""

from .offsets import dense_offsets, psla_offsets
from .psla_op import ext_available, sparse_local_attention
from .reference import sparse_local_attention_reference

__all__ = [
    'psla_offsets',
    'dense_offsets',
    'sparse_local_attention',
    'sparse_local_attention_reference',
    'ext_available',
]

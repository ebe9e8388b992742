"""Progressive Sparse Local Attention operator (needs torch only).

* :func:`sparse_local_attention`: the compiled op (C++ CPU / CUDA kernels, torch custom
  op with autograd); it raises when ``mmpsla._ext`` is missing or stale, unless
  ``MMPSLA_ALLOW_REFERENCE_OP=1`` allows the reference;
* :func:`sparse_local_attention_reference`: the same function in plain PyTorch;
* :func:`psla_offsets` / :func:`dense_offsets`: the PSLA and the dense offset sets;
* :func:`deform_ps_roi_pool`: deformable position-sensitive RoI pooling (Deformable R-FCN),
  compiled, with the same fallback rule; :func:`deform_ps_roi_pool_reference`: in PyTorch;
* :func:`roi_align` / :class:`RoIAlign`: mmcv's RoIAlign (avg) with a compiled CPU kernel
  (mmcv's on CUDA; mmcv is imported only for CUDA inputs or the fallback);
* :func:`nms`: mmcv's NMS (the same boxes kept) with a compiled CPU kernel, likewise.
"""

from .deform_ps_roi_pool_op import deform_ps_roi_pool
from .deform_ps_roi_pool_reference import deform_ps_roi_pool_reference
from .nms_op import nms
from .offsets import check_displacement, dense_offsets, psla_offsets
from .psla_op import ext_available, sparse_local_attention
from .reference import sparse_local_attention_reference
from .roi_align_op import RoIAlign, roi_align

__all__ = [
    'psla_offsets',
    'dense_offsets',
    'check_displacement',
    'sparse_local_attention',
    'sparse_local_attention_reference',
    'ext_available',
    'deform_ps_roi_pool',
    'deform_ps_roi_pool_reference',
    'roi_align',
    'RoIAlign',
    'nms',
]

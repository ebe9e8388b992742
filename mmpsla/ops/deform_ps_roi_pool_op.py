"""Deformable position-sensitive RoI pooling (Deformable R-FCN, Dai et al. 2017, Sec. 2.2)
with the compiled kernels of ``mmpsla._ext``, registered as a torch custom op.

``mmpsla::deform_ps_roi_pool_forward`` / ``..._backward`` wrap the C++ CPU and CUDA kernels
(``ops/csrc/deform_ps_roi_pool*``). They are ``torch.library`` custom ops with fake (meta)
implementations and a registered autograd formula (gradients for the map and the offsets),
like the PSLA op (:mod:`mmpsla.ops.psla_op`), whose loud-fallback rule they share: when the
extension is missing, stale, or has no CUDA kernels for a CUDA input,
:func:`deform_ps_roi_pool` raises, unless ``MMPSLA_ALLOW_REFERENCE_OP=1`` allows the
pure-PyTorch reference (:func:`deform_ps_roi_pool_reference`).

Semantics (also ``ops/csrc/deform_ps_roi_pool.h``). Each RoI is divided into ``kh x kw``
bins. Bin ``(i, j)`` of class / coordinate ``c`` averages ``S x S`` bilinear samples
(``S`` = ``sample_per_part``) of its own channel group of the position-sensitive score map,
taken over the bin shifted by a learned offset ``(dx, dy) * trans_std * (roi_w, roi_h)``
(the normalised offsets of Deformable R-FCN's Eq. 4; ``trans_std`` = 0.1 as published).
Offsets come per part of a ``P x P`` grid over the RoI (part
``(floor(i * P / kh), floor(j * P / kw))``) and per offset class: with ``T`` offset classes,
output channel ``c`` of ``C`` uses offset class ``c // (C // T)``.

Channel layout (the same as ``PSRoIAlign``): the map of ``kh * kw * C`` channels is
group-major, channel ``(i * kw + j) * C + c`` holds class / coordinate ``c`` of bin
``(i, j)``. (The published MXNet op is class-major; for a map produced by a learned 1x1
convolution the two are the same model up to a permutation of its filters.)

Geometry: RoIs are continuous ``(x1, y1, x2, y2)`` boxes in image pixels, mapped to the map
with ``spatial_scale`` and a half-pixel shift (like ``RoIAlign(aligned=True)``); a RoI is at
least 0.1 feature pixels wide. Samples lie at sub-bin centres; a sample outside
``[-0.5, size - 0.5]`` is dropped (it does not count in the average), one inside is clamped
to the map and read bilinearly - the published op's border rule. A bin without any valid
sample is 0. ``offsets=None`` is plain PS-RoI pooling with ``S x S`` sub-bin samples.
"""

from typing import Optional, Tuple, Union

import torch
from torch import Tensor
from torch.nn.modules.utils import _pair

from . import psla_op
from .deform_ps_roi_pool_reference import deform_ps_roi_pool_reference
from .validation import shape_or_type

__all__ = ['deform_ps_roi_pool', 'check_deform_ps_roi_pool_inputs']

_CPU_DTYPES = (torch.float32, torch.float64)
_CUDA_DTYPES = _CPU_DTYPES + (torch.float16, torch.bfloat16)


@torch.library.custom_op('mmpsla::deform_ps_roi_pool_forward', mutates_args=())
def _forward_op(
    x: Tensor,
    rois: Tensor,
    offsets: Optional[Tensor],
    pooled_height: int,
    pooled_width: int,
    spatial_scale: float,
    part_size: int,
    sample_per_part: int,
    trans_std: float,
) -> Tensor:
    return psla_op._ext.deform_ps_roi_pool_forward(
        x, rois, offsets, pooled_height, pooled_width, spatial_scale, part_size,
        sample_per_part, trans_std,
    )  # fmt: skip


@_forward_op.register_fake
def _forward_fake(x, rois, offsets, pooled_height, pooled_width, *args):
    channels = x.shape[1] // (pooled_height * pooled_width)
    return x.new_empty((rois.shape[0], channels, pooled_height, pooled_width))


@torch.library.custom_op('mmpsla::deform_ps_roi_pool_backward', mutates_args=())
def _backward_op(
    grad_out: Tensor,
    x: Tensor,
    rois: Tensor,
    offsets: Optional[Tensor],
    pooled_height: int,
    pooled_width: int,
    spatial_scale: float,
    part_size: int,
    sample_per_part: int,
    trans_std: float,
) -> Tuple[Tensor, Tensor]:
    """Returns ``grad_x`` and ``grad_offsets`` (an empty tensor without offsets)."""
    grad_x, grad_offsets = psla_op._ext.deform_ps_roi_pool_backward(
        grad_out, x, rois, offsets, pooled_height, pooled_width, spatial_scale, part_size,
        sample_per_part, trans_std,
    )  # fmt: skip
    return grad_x, x.new_empty(0) if grad_offsets is None else grad_offsets


@_backward_op.register_fake
def _backward_fake(grad_out, x, rois, offsets, *args):
    return torch.empty_like(x), x.new_empty(0) if offsets is None else torch.empty_like(offsets)


def _setup_context(ctx, inputs, output):
    x, rois, offsets, *params = inputs
    ctx.save_for_backward(x, rois, offsets)
    ctx.params = params


def _backward(ctx, grad_out):
    x, rois, offsets = ctx.saved_tensors
    grad_x, grad_offsets = _backward_op(grad_out.contiguous(), x, rois, offsets, *ctx.params)
    return grad_x, None, None if offsets is None else grad_offsets, *[None] * len(ctx.params)


_forward_op.register_autograd(_backward, setup_context=_setup_context)


def check_deform_ps_roi_pool_inputs(
    x: Tensor,
    rois: Tensor,
    offsets: Optional[Tensor],
    output_size: Tuple[int, int],
    part_size: int,
    sample_per_part: int,
) -> None:
    """Checks the op's inputs.

    Raises:
        ValueError: naming the argument and what it must be.
    """
    kh, kw = output_size
    if kh < 1 or kw < 1:
        raise ValueError(f'output_size must be positive, got {output_size}')
    if part_size < 1:
        raise ValueError(f'part_size must be >= 1, got {part_size}')
    if sample_per_part < 1:
        raise ValueError(f'sample_per_part must be >= 1, got {sample_per_part}')
    if not isinstance(x, Tensor) or x.dim() != 4:
        shape = shape_or_type(x)
        raise ValueError(f'x must be (B, k*k*C, H, W), got {shape}')
    dtypes = _CUDA_DTYPES if x.is_cuda else _CPU_DTYPES
    if x.dtype not in dtypes:
        raise ValueError(f'x must be one of {dtypes} on {x.device.type}, got {x.dtype}')
    if x.size(1) == 0 or x.size(1) % (kh * kw):
        raise ValueError(
            f'x has {x.size(1)} channels, not a positive multiple of the {output_size} bins'
        )
    if not isinstance(rois, Tensor) or rois.dim() != 2 or rois.size(1) != 5:
        shape = shape_or_type(rois)
        raise ValueError(f'rois must be (N, 5) (batch_idx, x1, y1, x2, y2), got {shape}')
    if not rois.is_floating_point() or rois.device != x.device:
        raise ValueError(
            f'rois must be a floating-point tensor on {x.device}, got {rois.dtype} on '
            f'{rois.device}'
        )
    batch_idx = rois[:, 0].round().long()
    if rois.size(0) and (batch_idx.min() < 0 or batch_idx.max() >= x.size(0)):
        raise ValueError(f'rois: RoI batch indices must lie in [0, {x.size(0)})')
    if offsets is None:
        return
    p = part_size
    if offsets.dim() != 4 or offsets.shape[0] != rois.size(0) or offsets.shape[2:] != (p, p):
        raise ValueError(
            f'offsets must be (num_rois={rois.size(0)}, 2*T, {p}, {p}), got '
            f'{tuple(offsets.shape)}'
        )
    t2, c = offsets.size(1), x.size(1) // (kh * kw)
    if t2 == 0 or t2 % 2 or c % (t2 // 2):
        raise ValueError(
            f'offsets have {t2} channels: need 2 per offset class, and the classes must '
            f'divide the {c} pooled channels'
        )
    if offsets.dtype != x.dtype or offsets.device != x.device:
        raise ValueError(
            f'offsets must have the dtype and device of x ({x.dtype}, {x.device}), got '
            f'{offsets.dtype}, {offsets.device}'
        )


def deform_ps_roi_pool(
    x: Tensor,
    rois: Tensor,
    offsets: Optional[Tensor],
    output_size: Union[int, Tuple[int, int]],
    spatial_scale: float,
    part_size: Optional[int] = None,
    sample_per_part: int = 4,
    trans_std: float = 0.1,
) -> Tensor:
    """Deformable PS-RoI pooling (see the module docstring) with the compiled kernels.

    Differentiable in ``x`` and ``offsets`` (not in ``rois``). float32 / float64 on CPU and
    CUDA, float16 / bfloat16 on CUDA (float32 accumulation).

    Args:
        x (Tensor): ``(B, kh * kw * C, H, W)`` position-sensitive map, group-major.
        rois (Tensor): ``(N, 5)`` ``(batch_idx, x1, y1, x2, y2)`` in image pixels.
        offsets (Tensor, optional): ``(N, 2 * T, P, P)`` normalised offsets (x then y per
            offset class), ``T`` dividing ``C``; None pools without offsets.
        output_size (int | tuple[int, int]): ``(kh, kw)``.
        spatial_scale (float): Map scale of the RoI coordinates (1/16 in R-FCN).
        part_size (int, optional): ``P``, the offset grid; defaults to ``kh``.
        sample_per_part (int): ``S``, samples per bin side. Defaults to 4 (published).
        trans_std (float): Scale of the offsets. Defaults to 0.1 (published).

    Returns:
        Tensor: ``(N, C, kh, kw)`` in ``x``'s dtype.

    Raises:
        ValueError: naming the argument, for malformed inputs.
        RuntimeError: when the extension is missing, stale or lacks CUDA kernels for a CUDA
            input, unless ``MMPSLA_ALLOW_REFERENCE_OP=1`` is set.
    """
    kh, kw = _pair(output_size)
    part_size = kh if part_size is None else int(part_size)
    check_deform_ps_roi_pool_inputs(x, rois, offsets, (kh, kw), part_size, sample_per_part)
    args = (float(spatial_scale), part_size, int(sample_per_part), float(trans_std))
    if psla_op._use_ext(x):
        return _forward_op(x, rois, offsets, kh, kw, *args)
    return deform_ps_roi_pool_reference(x, rois, offsets, (kh, kw), *args)

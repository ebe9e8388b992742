"""RoIAlign (average pooling) with a compiled CPU kernel; on CUDA, mmcv's kernel.

:func:`roi_align` computes exactly ``mmcv.ops.roi_align(x, rois, output_size, spatial_scale,
sampling_ratio, 'avg', aligned)`` (semantics in ``ops/csrc/roi_align.h``), which stays the
reference it is tested against (values and gradients, float64). Why a kernel of our own: on
the CPU mmcv's reads every channel of every bilinear sample with a stride of H * W and runs
on one thread. Measured (``python benchmarks/bench_roi_align.py``, forward, one thread):
0.66 ms for the toy head's 30 RoIs of a 128-channel 8 x 12 map and 530 ms for 300 RoIs of a
1024-channel 38 x 63 map (ResNet-101 DC5 at 600 x 1000) on an idle machine, about twice
that on a loaded one, against 0.14 ms and 61 ms (35 ms on two threads) here. This kernel
reads the map channels-last (each sample is four weighted rows of contiguous channels) and
splits RoIs (forward) or channel blocks (backward) over the threads.

``mmpsla::roi_align_forward`` / ``..._backward`` are ``torch.library`` custom ops with fake
implementations and an autograd formula (gradient for ``x``; none for the RoIs, as in mmcv).
CUDA tensors go to ``mmcv.ops.roi_align``; CPU tensors need the extension, with the PSLA
op's loud-fallback rule (:func:`mmpsla.ops.psla_op._use_ext`: a missing or stale extension
raises unless ``MMPSLA_ALLOW_REFERENCE_OP=1``, which falls back to mmcv's kernel).
"""

from typing import List, Tuple, Union

import torch
from torch import Tensor, nn
from torch.nn.modules.utils import _pair

from . import psla_op
from .validation import shape_or_type

__all__ = ['roi_align', 'RoIAlign']


@torch.library.custom_op('mmpsla::roi_align_forward', mutates_args=())
def _forward_op(
    x: Tensor,
    rois: Tensor,
    pooled_height: int,
    pooled_width: int,
    spatial_scale: float,
    sampling_ratio: int,
    aligned: bool,
) -> Tensor:
    return psla_op._ext.roi_align_forward(
        x, rois, pooled_height, pooled_width, spatial_scale, sampling_ratio, aligned
    )


@_forward_op.register_fake
def _forward_fake(x, rois, pooled_height, pooled_width, *args):
    return x.new_empty((rois.shape[0], x.shape[1], pooled_height, pooled_width))


@torch.library.custom_op('mmpsla::roi_align_backward', mutates_args=())
def _backward_op(
    grad_out: Tensor,
    rois: Tensor,
    x_shape: List[int],
    pooled_height: int,
    pooled_width: int,
    spatial_scale: float,
    sampling_ratio: int,
    aligned: bool,
) -> Tensor:
    return psla_op._ext.roi_align_backward(
        grad_out, rois, x_shape, pooled_height, pooled_width, spatial_scale, sampling_ratio,
        aligned,
    )  # fmt: skip


@_backward_op.register_fake
def _backward_fake(grad_out, rois, x_shape, *args):
    return grad_out.new_empty(x_shape)


def _setup_context(ctx, inputs, output):
    x, rois, *params = inputs
    ctx.save_for_backward(rois)
    ctx.x_shape = list(x.shape)
    ctx.params = params


def _backward(ctx, grad_out):
    (rois,) = ctx.saved_tensors
    grad_x = _backward_op(grad_out.contiguous(), rois, ctx.x_shape, *ctx.params)
    return grad_x, None, *[None] * len(ctx.params)


_forward_op.register_autograd(_backward, setup_context=_setup_context)


def _check_inputs(
    x: Tensor, rois: Tensor, output_size, spatial_scale, sampling_ratio, aligned
) -> None:
    """Raises ValueError naming the argument for malformed inputs."""
    if min(output_size) < 1:
        raise ValueError(f'output_size must be positive, got {output_size}')
    if not spatial_scale > 0:
        raise ValueError(f'spatial_scale must be positive, got {spatial_scale}')
    if sampling_ratio < 0:
        raise ValueError(f'sampling_ratio must be >= 0 (0: adaptive), got {sampling_ratio}')
    if not isinstance(x, Tensor) or x.dim() != 4:
        shape = shape_or_type(x)
        raise ValueError(f'x must be (N, C, H, W), got {shape}')
    if not isinstance(rois, Tensor) or rois.dim() != 2 or rois.size(1) != 5:
        shape = shape_or_type(rois)
        raise ValueError(f'rois must be (R, 5) (batch_idx, x1, y1, x2, y2), got {shape}')
    if rois.device != x.device:
        raise ValueError(f'rois must be on {x.device}, got {rois.device}')
    if x.device.type == 'cpu' and x.dtype not in (torch.float32, torch.float64):
        raise ValueError(f'x must be float32 or float64 on the CPU, got {x.dtype}')
    if rois.size(0):
        batch = rois[:, 0]
        if batch.min() < 0 or batch.max() >= x.size(0):
            raise ValueError(f'rois: batch indices must lie in [0, {x.size(0)})')
        if aligned and (rois[:, 3:5] < rois[:, 1:3]).any():  # mmcv asserts this too
            raise ValueError('rois: x2 < x1 or y2 < y1 (an inverted box) with aligned=True')


def roi_align(
    x: Tensor,
    rois: Tensor,
    output_size: Union[int, Tuple[int, int]],
    spatial_scale: float = 1.0,
    sampling_ratio: int = 0,
    aligned: bool = True,
) -> Tensor:
    """RoIAlign with average pooling: ``mmcv.ops.roi_align(..., 'avg', aligned)``.

    Args:
        x (Tensor): (N, C, H, W) feature map.
        rois (Tensor): (R, 5) ``(batch_idx, x1, y1, x2, y2)`` in image pixels.
        output_size (int | tuple[int, int]): (PH, PW).
        spatial_scale (float): Map scale of the RoI coordinates (1/16 at stride 16).
        sampling_ratio (int): Samples per bin side; 0: ``ceil(RoI side / bins)`` per RoI.
        aligned (bool): Half-pixel shift of the RoI (mmcv / Detectron2 ``aligned=True``).

    Returns:
        Tensor: (R, C, PH, PW), differentiable in ``x``.
    """
    ph, pw = _pair(output_size)
    _check_inputs(x, rois, (ph, pw), spatial_scale, sampling_ratio, aligned)
    args = (ph, pw, float(spatial_scale), int(sampling_ratio), bool(aligned))
    if x.device.type == 'cpu' and psla_op._use_ext(x):
        if x.size(1) == 0 or rois.size(0) == 0:
            return x.new_zeros((rois.size(0), x.size(1), ph, pw)) + 0 * x.sum()
        return _forward_op(x, rois.to(x.dtype), *args)
    from mmcv.ops import roi_align as mmcv_roi_align

    return mmcv_roi_align(x, rois.to(x.dtype), (ph, pw), *args[2:4], 'avg', args[4])


class RoIAlign(nn.Module):
    """:func:`roi_align` as a layer, with ``mmcv.ops.RoIAlign``'s arguments (so an mmdet RoI
    extractor can build it from the same config; see
    :class:`mmpsla.models.roi_heads.OpsSingleRoIExtractor`). Only ``pool_mode='avg'``;
    ``use_torchvision`` must be False."""

    def __init__(
        self,
        output_size: Union[int, Tuple[int, int]],
        spatial_scale: float = 1.0,
        sampling_ratio: int = 0,
        pool_mode: str = 'avg',
        aligned: bool = True,
        use_torchvision: bool = False,
    ) -> None:
        super().__init__()
        if pool_mode != 'avg':
            raise ValueError(
                f'mmpsla RoIAlign pools by average only, got pool_mode={pool_mode!r} '
                "(use mmcv.ops.RoIAlign for 'max')"
            )
        if use_torchvision:
            raise ValueError('mmpsla RoIAlign: use_torchvision=True is not supported')
        self.output_size = _pair(output_size)
        self.spatial_scale = float(spatial_scale)
        self.sampling_ratio = int(sampling_ratio)
        self.aligned = bool(aligned)

    def forward(self, x: Tensor, rois: Tensor) -> Tensor:
        """(N, C, H, W), (R, 5) -> (R, C, PH, PW)."""
        return roi_align(
            x, rois, self.output_size, self.spatial_scale, self.sampling_ratio, self.aligned
        )

    def extra_repr(self) -> str:
        return (
            f'output_size={self.output_size}, spatial_scale={self.spatial_scale}, '
            f'sampling_ratio={self.sampling_ratio}, aligned={self.aligned}'
        )

"""Deformable position-sensitive RoI pooling in plain PyTorch: the reference backend.

Gathers of the four bilinear neighbours of every sample, chunked over RoIs; autograd gives
the gradients for the map and for the offsets. It is the definition the compiled op
(:func:`mmpsla.ops.deform_ps_roi_pool`) is tested against, and what runs instead of it only
when the extension is unusable and ``MMPSLA_ALLOW_REFERENCE_OP=1`` is set.
"""

from typing import Optional, Tuple

import torch
from torch import Tensor

__all__ = ['deform_ps_roi_pool_reference']

#: RoIs pooled per gather; bounds the temporary memory to a few hundred MiB at R-FCN sizes.
ROI_CHUNK = 64


def _sample_axis(start: Tensor, bin_size: Tensor, samples: int) -> Tensor:
    """Sub-bin centre coordinates along one axis.

    Args:
        start (Tensor): ``(N, T, k, k)`` start of every bin (offset included).
        bin_size (Tensor): ``(N, 1, 1, 1)`` bin size.
        samples (int): ``S`` samples per bin side.

    Returns:
        Tensor: ``(N, T, k, k, S)`` coordinates.
    """
    s = torch.arange(samples, dtype=start.dtype, device=start.device) + 0.5
    return start.unsqueeze(-1) + s * (bin_size / samples).unsqueeze(-1)


def deform_ps_roi_pool_reference(
    x: Tensor,
    rois: Tensor,
    offsets: Optional[Tensor],
    output_size: Tuple[int, int],
    spatial_scale: float,
    part_size: int,
    sample_per_part: int,
    trans_std: float,
) -> Tensor:
    """Deformable PS-RoI pooling in plain PyTorch (semantics: :func:`deform_ps_roi_pool`).

    Inputs are not checked here (the caller validates them).

    Args:
        x (Tensor): ``(B, kh * kw * C, H, W)`` position-sensitive map, group-major.
        rois (Tensor): ``(N, 5)`` ``(batch_idx, x1, y1, x2, y2)`` in image pixels.
        offsets (Tensor, optional): ``(N, 2 * T, P, P)`` normalised offsets (x then y per
            offset class), ``T`` dividing ``C``; None pools without offsets.
        output_size (tuple[int, int]): ``(kh, kw)``.
        spatial_scale (float): Map scale of the RoI coordinates.
        part_size (int): ``P``, the offset grid.
        sample_per_part (int): ``S``, samples per bin side.
        trans_std (float): Scale of the offsets.

    Returns:
        Tensor: ``(N, C, kh, kw)``.
    """
    kh, kw = output_size
    b, channels, h, w = x.shape
    c = channels // (kh * kw)
    n = rois.size(0)
    if n == 0:
        return x.new_zeros(0, c, kh, kw) + 0 * x.sum()
    rois = rois.to(x.dtype)
    if offsets is None:
        num_trans = 1
        trans = x.new_zeros(n, 1, 2, kh, kw)
    else:
        num_trans = offsets.size(1) // 2
        p = offsets.size(-1)
        pi = torch.div(torch.arange(kh, device=x.device) * p, kh, rounding_mode='floor')
        pj = torch.div(torch.arange(kw, device=x.device) * p, kw, rounding_mode='floor')
        off = offsets.view(n, num_trans, 2, p, p).to(x.dtype)
        trans = off[:, :, :, pi][:, :, :, :, pj] * trans_std  # (N, T, 2, kh, kw)
    batch_idx = rois[:, 0].round().long()
    x1 = rois[:, 1] * spatial_scale - 0.5
    y1 = rois[:, 2] * spatial_scale - 0.5
    roi_w = (rois[:, 3] * spatial_scale - 0.5 - x1).clamp(min=0.1).view(n, 1, 1, 1)
    roi_h = (rois[:, 4] * spatial_scale - 0.5 - y1).clamp(min=0.1).view(n, 1, 1, 1)
    bin_w, bin_h = roi_w / kw, roi_h / kh
    jj = torch.arange(kw, dtype=x.dtype, device=x.device).view(1, 1, 1, kw)
    ii = torch.arange(kh, dtype=x.dtype, device=x.device).view(1, 1, kh, 1)
    start_x = x1.view(n, 1, 1, 1) + jj * bin_w + trans[:, :, 0] * roi_w  # (N, T, kh, kw)
    start_y = y1.view(n, 1, 1, 1) + ii * bin_h + trans[:, :, 1] * roi_h
    sx = _sample_axis(start_x, bin_w, sample_per_part)  # (N, T, kh, kw, S)
    sy = _sample_axis(start_y, bin_h, sample_per_part)
    # (N, T, kh, kw, S_y, S_x) sample grid
    sx = sx.unsqueeze(-2).expand(*sx.shape[:-1], sample_per_part, sample_per_part)
    sy = sy.unsqueeze(-1).expand(*sy.shape[:-1], sample_per_part, sample_per_part)
    valid = (sx >= -0.5) & (sx <= w - 0.5) & (sy >= -0.5) & (sy <= h - 0.5)
    sx = sx.clamp(0, w - 1)
    sy = sy.clamp(0, h - 1)
    x0f, y0f = sx.detach().floor(), sy.detach().floor()
    x0 = x0f.long().clamp(max=w - 1)
    y0 = y0f.long().clamp(max=h - 1)
    x1i = (x0 + 1).clamp(max=w - 1)
    y1i = (y0 + 1).clamp(max=h - 1)
    lx, ly = sx - x0f, sy - y0f
    corners = (
        (y0, x0, (1 - ly) * (1 - lx)),
        (y0, x1i, (1 - ly) * lx),
        (y1i, x0, ly * (1 - lx)),
        (y1i, x1i, ly * lx),
    )
    count = valid.flatten(-2).sum(-1).to(x.dtype)  # (N, T, kh, kw)
    # every output channel c reads offset class c // (C // T) of its bin's channel group
    per_trans = c // num_trans
    flat_map = x.contiguous().view(-1)
    # offset of channel ((b * k*k + g) * C + c) of every RoI, bin and output channel
    group = torch.arange(kh * kw, device=x.device).view(1, kh, kw, 1)
    chan = torch.arange(c, device=x.device).view(1, 1, 1, c)
    base = ((batch_idx.view(n, 1, 1, 1) * (kh * kw) + group) * c + chan) * (h * w)
    out = []
    for lo in range(0, n, ROI_CHUNK):
        hi = min(lo + ROI_CHUNK, n)
        acc = 0
        for yy, xx, weight in corners:
            # (m, T, kh, kw, S*S) -> offset classes expanded to channels: (m, kh, kw, C, S*S)
            pos = (yy[lo:hi] * w + xx[lo:hi]).flatten(-2)
            wgt = (weight[lo:hi] * valid[lo:hi]).flatten(-2)
            pos = pos.repeat_interleave(per_trans, dim=1).permute(0, 2, 3, 1, 4)
            wgt = wgt.repeat_interleave(per_trans, dim=1).permute(0, 2, 3, 1, 4)
            vals = flat_map[base[lo:hi].unsqueeze(-1) + pos]
            acc = acc + (vals * wgt).sum(-1)
        out.append(acc)  # (m, kh, kw, C)
    pooled = torch.cat(out).permute(0, 3, 1, 2)  # (N, C, kh, kw)
    denom = count.repeat_interleave(per_trans, dim=1)
    return torch.where(denom > 0, pooled / denom.clamp(min=1), torch.zeros_like(pooled))

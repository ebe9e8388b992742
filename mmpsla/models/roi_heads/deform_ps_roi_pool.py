"""Deformable position-sensitive RoI pooling (Deformable R-FCN, Dai et al. 2017, Sec. 2.2).

Each RoI is divided into ``k x k`` bins. Bin ``(i, j)`` of class / coordinate ``c`` averages
``S x S`` bilinear samples (``S`` = ``sample_per_part``) of its own channel group of the
position-sensitive score map, taken over the bin shifted by a learned offset
``(dx, dy) * trans_std * (roi_w, roi_h)`` (the normalised offsets of Deformable R-FCN's
Eq. 4: scale-invariant, ``trans_std`` = 0.1 as published). Offsets come per part of a
``part_size x part_size`` grid over the RoI (part ``(floor(i * P / k), floor(j * P / k))``) and
per offset class: with ``T`` offset classes, output channel ``c`` of ``C`` uses offset class
``c // (C // T)`` (the R-FCN classification maps have one offset pair per class, the box maps
one shared pair).

Channel layout (the same as :class:`PSRoIAlign`): the map of ``k * k * C`` channels is
group-major, channel ``(i * k + j) * C + c`` holds class / coordinate ``c`` of bin ``(i, j)``.
(The published MXNet op is class-major, ``(c * k + i) * k + j``; for a map produced by a
learned 1x1 convolution the two are the same model up to a permutation of its filters.)

Geometry: RoIs are continuous ``(x1, y1, x2, y2)`` boxes in image pixels, mapped to the map
with ``spatial_scale`` and a half-pixel shift (like ``RoIAlign(aligned=True)``); a RoI is at
least 0.1 feature pixels wide. Samples lie at sub-bin centres; a sample outside
``[-0.5, size - 0.5]`` is dropped (it does not count in the average), one inside is clamped to
the map and read bilinearly - the published op's border rule. A bin without any valid sample
is 0.

This is a pure-PyTorch op (gathers of the four bilinear neighbours, chunked over RoIs);
autograd gives the gradients for the map and for the offsets.
"""

from typing import Optional, Tuple, Union

import torch
from torch import Tensor, nn

from .ps_roi_align import check_pool_geometry

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


def deform_ps_roi_pool(
    x: Tensor,
    rois: Tensor,
    offsets: Optional[Tensor],
    output_size: Tuple[int, int],
    spatial_scale: float,
    part_size: int,
    sample_per_part: int,
    trans_std: float,
) -> Tensor:
    """Deformable PS-RoI pooling (see the module docstring).

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


class DeformPSRoIPool(nn.Module):
    """Deformable position-sensitive RoI pooling (module form of :func:`deform_ps_roi_pool`).

    Args:
        output_size (int | tuple[int, int]): ``k`` (group size = pooled size), 7 in R-FCN.
        spatial_scale (float): Map scale of the RoI coordinates (1/16).
        part_size (int, optional): Offset grid ``P``; defaults to ``k`` (published: 7).
        sample_per_part (int): Samples per bin side. Defaults to 4 (published).
        trans_std (float): Offset scale. Defaults to 0.1 (published).
    """

    def __init__(
        self,
        output_size: Union[int, Tuple[int, int]],
        spatial_scale: float,
        part_size: Optional[int] = None,
        sample_per_part: int = 4,
        trans_std: float = 0.1,
    ) -> None:
        super().__init__()
        self.output_size, self.spatial_scale = check_pool_geometry(output_size, spatial_scale)
        if sample_per_part < 1:
            raise ValueError(f'sample_per_part must be >= 1, got {sample_per_part}')
        self.part_size = int(part_size if part_size is not None else self.output_size[0])
        if self.part_size < 1:
            raise ValueError(f'part_size must be >= 1, got {part_size}')
        self.sample_per_part = int(sample_per_part)
        self.trans_std = float(trans_std)

    @property
    def num_bins(self) -> int:
        """``kh * kw``, the number of channel groups of the input."""
        return self.output_size[0] * self.output_size[1]

    def forward(self, x: Tensor, rois: Tensor, offsets: Optional[Tensor] = None) -> Tensor:
        """Pool every RoI's bins, shifted by ``offsets``.

        Args:
            x (Tensor): ``(B, kh * kw * C, H, W)`` position-sensitive map (group-major).
            rois (Tensor): ``(N, 5)`` RoIs ``(batch_idx, x1, y1, x2, y2)`` in image pixels.
            offsets (Tensor, optional): ``(N, 2 * T, P, P)``, ``T`` dividing ``C``.

        Returns:
            Tensor: ``(N, C, kh, kw)``.
        """
        if x.dim() != 4:
            raise ValueError(f'x must be (B, k*k*C, H, W), got shape {tuple(x.shape)}')
        if rois.dim() != 2 or rois.size(1) != 5:
            raise ValueError(f'rois must be (N, 5), got shape {tuple(rois.shape)}')
        if x.size(1) % self.num_bins:
            raise ValueError(
                f'x has {x.size(1)} channels, not a multiple of the {self.output_size} bins'
            )
        c = x.size(1) // self.num_bins
        batch_idx = rois[:, 0].round().long()
        if rois.size(0) and (batch_idx.min() < 0 or batch_idx.max() >= x.size(0)):
            raise ValueError(f'RoI batch indices must lie in [0, {x.size(0)})')
        if offsets is not None:
            p = self.part_size
            if (
                offsets.dim() != 4
                or offsets.shape[0] != rois.size(0)
                or offsets.shape[2:] != (p, p)
            ):
                raise ValueError(
                    f'offsets must be (num_rois={rois.size(0)}, 2*T, {p}, {p}), got '
                    f'{tuple(offsets.shape)}'
                )
            t2 = offsets.size(1)
            if t2 % 2 or c % (t2 // 2):
                raise ValueError(
                    f'offsets have {t2} channels: need 2 per offset class, and the classes '
                    f'must divide the {c} pooled channels'
                )
        return deform_ps_roi_pool(
            x,
            rois,
            offsets,
            self.output_size,
            self.spatial_scale,
            self.part_size,
            self.sample_per_part,
            self.trans_std,
        )

    def extra_repr(self) -> str:
        return (
            f'output_size={self.output_size}, spatial_scale={self.spatial_scale}, '
            f'part_size={self.part_size}, sample_per_part={self.sample_per_part}, '
            f'trans_std={self.trans_std}, layout=(i*k+j)*C+c'
        )

"""Position-sensitive RoIAlign (R-FCN, Dai et al. 2016) on top of RoIAlign
(:func:`mmpsla.ops.roi_align`: ``mmcv.ops.roi_align``'s numbers, compiled for the CPU).

Channel layout: a score map of ``k * k * C`` channels is read as ``k * k`` groups of ``C``
channels, group-major: channel ``(i * k + j) * C + c`` holds class / coordinate ``c`` for the
bin in row ``i`` and column ``j`` of the ``k x k`` grid. Bin ``(i, j)`` of every RoI is pooled
from group ``(i, j)`` only, giving an output of shape ``(num_rois, C, k, k)``.

Implementation: the map ``(B, k*k*C, H, W)`` is viewed (no copy) as ``(B*k*k, C, H, W)``, so
group ``g`` of image ``b`` becomes batch entry ``b * k * k + g``; every RoI is split into its
``k * k`` bin boxes, each pooled to ``1 x 1`` by ``roi_align`` from its own batch entry. This
pools ``C`` channels per bin instead of all ``k * k * C`` and equals RoIAlign of the whole RoI
to ``k x k`` bins on the bin's channel group when ``aligned=True`` (the bin's sampling points
are the same; with an adaptive ``sampling_ratio=0`` the grid is ``ceil(bin size)`` in both).
``aligned=False`` clamps each RoI to at least one feature pixel before it is divided into bins,
which cannot be reproduced per bin, so only ``aligned=True`` is supported.
"""

from typing import Tuple, Union

import torch
from torch import Tensor, nn
from torch.nn.modules.utils import _pair

from mmpsla.ops import roi_align


def check_pool_geometry(
    output_size: Union[int, Tuple[int, int]], spatial_scale: float
) -> Tuple[Tuple[int, int], float]:
    """Check a position-sensitive pooling's bin grid and feature scale.

    Returns:
        ``(kh, kw)`` and ``spatial_scale`` as a float.

    Raises:
        ValueError: A bin grid side below 1 or a non-positive ``spatial_scale``.
    """
    size = _pair(output_size)
    if min(size) < 1:
        raise ValueError(f'output_size must be positive, got {output_size}')
    if spatial_scale <= 0:
        raise ValueError(f'spatial_scale must be positive, got {spatial_scale}')
    return size, float(spatial_scale)


class PSRoIAlign(nn.Module):
    """Position-sensitive RoIAlign with average pooling.

    Args:
        output_size (int | tuple[int, int]): ``k`` (or ``(kh, kw)``), the bin grid.
        spatial_scale (float): Feature-map scale of the RoI coordinates (1/16 at stride 16).
        sampling_ratio (int): Sampling points per bin side; 0 picks ``ceil(bin size)``.
            Defaults to 2.
    """

    def __init__(
        self,
        output_size: Union[int, Tuple[int, int]],
        spatial_scale: float,
        sampling_ratio: int = 2,
    ) -> None:
        super().__init__()
        self.output_size, self.spatial_scale = check_pool_geometry(output_size, spatial_scale)
        if sampling_ratio < 0:
            raise ValueError(f'sampling_ratio must be >= 0, got {sampling_ratio}')
        self.sampling_ratio = int(sampling_ratio)

    @property
    def num_bins(self) -> int:
        """``kh * kw``, the number of channel groups of the input."""
        return self.output_size[0] * self.output_size[1]

    def bin_rois(self, rois: Tensor, num_images: int) -> Tensor:
        """Split every RoI into its bins, each pointing at its channel group's batch entry.

        Args:
            rois (Tensor): ``(N, 5)`` RoIs ``(batch_idx, x1, y1, x2, y2)`` in image pixels.
            num_images (int): Batch size ``B`` of the score map.

        Returns:
            Tensor: ``(N * kh * kw, 5)`` bin boxes, row-major per RoI, with batch index
            ``batch_idx * kh * kw + i * kw + j``.
        """
        kh, kw = self.output_size
        n = rois.size(0)
        batch_idx = rois[:, 0].round().long()
        if n and (batch_idx.min() < 0 or batch_idx.max() >= num_images):
            lo, hi = int(batch_idx.min()), int(batch_idx.max())
            raise ValueError(f'RoI batch indices must lie in [0, {num_images}), got [{lo}, {hi}]')
        x1, y1, x2, y2 = rois[:, 1:].unbind(dim=1)
        bin_w = (x2 - x1) / kw
        bin_h = (y2 - y1) / kh
        i = torch.arange(kh, device=rois.device, dtype=rois.dtype).view(1, kh, 1)
        j = torch.arange(kw, device=rois.device, dtype=rois.dtype).view(1, 1, kw)
        bx1 = x1.view(n, 1, 1) + j * bin_w.view(n, 1, 1)
        by1 = y1.view(n, 1, 1) + i * bin_h.view(n, 1, 1)
        bx1, by1 = bx1.expand(n, kh, kw), by1.expand(n, kh, kw)
        bx2 = bx1 + bin_w.view(n, 1, 1)
        by2 = by1 + bin_h.view(n, 1, 1)
        group = torch.arange(kh * kw, device=rois.device).view(1, kh, kw)
        entry = (batch_idx.view(n, 1, 1) * (kh * kw) + group).to(rois.dtype)
        return torch.stack([entry, bx1, by1, bx2, by2], dim=-1).view(-1, 5)

    def forward(self, x: Tensor, rois: Tensor) -> Tensor:
        """Pool every RoI's bins from their channel groups.

        Args:
            x (Tensor): ``(B, kh * kw * C, H, W)`` position-sensitive score map.
            rois (Tensor): ``(N, 5)`` RoIs ``(batch_idx, x1, y1, x2, y2)`` in image pixels.

        Returns:
            Tensor: ``(N, C, kh, kw)``; bin ``(i, j)`` pooled from channels
            ``(i * kw + j) * C + c``.
        """
        if x.dim() != 4:
            raise ValueError(f'x must be (B, k*k*C, H, W), got shape {tuple(x.shape)}')
        if rois.dim() != 2 or rois.size(1) != 5:
            raise ValueError(f'rois must be (N, 5), got shape {tuple(rois.shape)}')
        b, channels, h, w = x.shape
        kh, kw = self.output_size
        if channels % self.num_bins:
            raise ValueError(f'x has {channels} channels, not a multiple of the {kh}x{kw} bins')
        c = channels // self.num_bins
        n = rois.size(0)
        if n == 0:
            return x.new_zeros(0, c, kh, kw) + 0 * x.sum()
        grouped = x.contiguous().view(b * self.num_bins, c, h, w)
        bins = self.bin_rois(rois.to(x.dtype), b)
        pooled = roi_align(grouped, bins, 1, self.spatial_scale, self.sampling_ratio, True)
        return pooled.view(n, kh, kw, c).permute(0, 3, 1, 2).contiguous()

    def extra_repr(self) -> str:
        return (
            f'output_size={self.output_size}, spatial_scale={self.spatial_scale}, '
            f'sampling_ratio={self.sampling_ratio}, layout=(i*k+j)*C+c'
        )

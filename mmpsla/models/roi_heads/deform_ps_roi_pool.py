"""Deformable position-sensitive RoI pooling (Deformable R-FCN, Dai et al. 2017, Sec. 2.2),
module form.

Each RoI is divided into ``k x k`` bins; bin ``(i, j)`` of class / coordinate ``c`` averages
``S x S`` bilinear samples of its own channel group of the group-major position-sensitive map
(channel ``(i * k + j) * C + c``, as :class:`PSRoIAlign`), over the bin shifted by a learned
per-part, per-offset-class offset times ``trans_std * (roi_w, roi_h)``. The full semantics
(half-pixel shift, border rule, part grid, offset classes, empty bins) are those of
:func:`mmpsla.ops.deform_ps_roi_pool`, which runs the compiled kernels (C++ CPU / CUDA) and
raises when the extension is unusable unless ``MMPSLA_ALLOW_REFERENCE_OP=1`` allows the
pure-PyTorch reference :func:`mmpsla.ops.deform_ps_roi_pool_reference`.
"""

from typing import Optional, Tuple, Union

from torch import Tensor, nn

from mmpsla.ops import deform_ps_roi_pool

from .ps_roi_align import check_pool_geometry

__all__ = ['DeformPSRoIPool', 'deform_ps_roi_pool']


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

"""PSRoIAlign against a slow per-bin RoIAlign reference: values, gradients, errors."""

import pytest
import torch
from mmcv.ops import roi_align

from mmpsla.models.roi_heads import PSRoIAlign


def _reference(x: torch.Tensor, rois: torch.Tensor, k: int, scale: float, ratio: int):
    """RoIAlign of the whole RoI to k x k bins on each bin's channel group, bin by bin."""
    c = x.size(1) // (k * k)
    out = x.new_zeros(rois.size(0), c, k, k)
    for i in range(k):
        for j in range(k):
            g = i * k + j
            group = x[:, g * c : (g + 1) * c].contiguous()
            out[:, :, i, j] = roi_align(group, rois, k, scale, ratio, 'avg', True)[:, :, i, j]
    return out


def _inputs(k: int = 3, c: int = 2, b: int = 2):
    g = torch.Generator().manual_seed(0)
    x = torch.randn(b, k * k * c, 10, 12, generator=g, dtype=torch.float64)
    rois = torch.tensor(
        [
            [0, 3.0, 4.0, 90.0, 70.0],
            [1, -10.0, 5.0, 60.3, 200.0],  # crosses the border
            [1, 20.0, 20.0, 22.0, 21.0],  # smaller than a feature pixel
            [0, 17.5, 33.2, 58.9, 41.7],
        ],
        dtype=torch.float64,
    )
    return x, rois


@pytest.mark.parametrize('k', [1, 3, 7])
@pytest.mark.parametrize('ratio', [2, 0])
def test_matches_the_per_bin_reference(k, ratio):
    x, rois = _inputs(k=k)
    op = PSRoIAlign(k, 1 / 8, ratio)
    out = op(x, rois)
    assert out.shape == (4, 2, k, k)
    torch.testing.assert_close(out, _reference(x, rois, k, 1 / 8, ratio), rtol=1e-10, atol=1e-12)


def test_layout_bin_reads_its_channel_group_only():
    k, c = 3, 2
    x = torch.zeros(1, k * k * c, 8, 8)
    x[:, (1 * k + 2) * c + 1] = 5.0  # group (1, 2), channel 1
    out = PSRoIAlign(k, 1.0, 2)(x, torch.tensor([[0, 0.0, 0.0, 6.0, 6.0]]))
    expected = torch.zeros(1, c, k, k)
    expected[0, 1, 1, 2] = 5.0
    torch.testing.assert_close(out, expected)


def test_gradient_matches_the_reference():
    x, rois = _inputs(k=3)
    w = torch.randn(4, 2, 3, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    x1 = x.clone().requires_grad_(True)
    (PSRoIAlign(3, 1 / 8, 2)(x1, rois) * w).sum().backward()
    x2 = x.clone().requires_grad_(True)
    (_reference(x2, rois, 3, 1 / 8, 2) * w).sum().backward()
    assert x1.grad.abs().sum() > 0
    torch.testing.assert_close(x1.grad, x2.grad, rtol=1e-10, atol=1e-12)


def test_empty_rois_and_float32():
    x, rois = _inputs(k=3)
    x = x.float().requires_grad_(True)
    op = PSRoIAlign(3, 1 / 8, 2)
    assert op(x, rois.float()).dtype == torch.float32
    empty = op(x, rois[:0].float())
    assert empty.shape == (0, 2, 3, 3)
    empty.sum().backward()  # still connected to x


def test_errors_and_repr():
    op = PSRoIAlign(3, 1 / 16)
    assert 'output_size=(3, 3)' in repr(op) and 'layout=(i*k+j)*C+c' in repr(op)
    rois = torch.tensor([[0, 0.0, 0.0, 8.0, 8.0]])
    with pytest.raises(ValueError, match='multiple'):
        op(torch.zeros(1, 10, 4, 4), rois)
    with pytest.raises(ValueError, match=r'\(N, 5\)'):
        op(torch.zeros(1, 9, 4, 4), rois[:, 1:])
    with pytest.raises(ValueError, match='batch indices'):
        op(torch.zeros(1, 9, 4, 4), torch.tensor([[1, 0.0, 0.0, 8.0, 8.0]]))
    with pytest.raises(ValueError, match='spatial_scale'):
        PSRoIAlign(3, 0.0)
    with pytest.raises(ValueError, match='output_size'):
        PSRoIAlign(0, 1.0)

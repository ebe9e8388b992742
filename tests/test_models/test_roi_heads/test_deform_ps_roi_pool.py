"""DeformPSRoIPool against a plain per-bin, per-sample float64 reference (values, gradients)."""

import math

import pytest
import torch

from mmpsla.models.roi_heads import DeformPSRoIPool, PSRoIAlign


def _bilinear(fmap, y, x):
    """Published border rule: clamp into the map, read the 4 neighbours (autograd-friendly)."""
    h, w = fmap.shape
    y = y.clamp(0, h - 1)
    x = x.clamp(0, w - 1)
    y0, x0 = math.floor(y.item()), math.floor(x.item())
    y1, x1 = min(y0 + 1, h - 1), min(x0 + 1, w - 1)
    ly, lx = y - y0, x - x0
    return (
        fmap[y0, x0] * (1 - ly) * (1 - lx)
        + fmap[y0, x1] * (1 - ly) * lx
        + fmap[y1, x0] * ly * (1 - lx)
        + fmap[y1, x1] * ly * lx
    )


def _reference(x, rois, offsets, k, scale, part, samples, trans_std):
    """Bin by bin, sample by sample, straight from the definition."""
    c = x.size(1) // (k * k)
    h, w = x.shape[2:]
    rows = []
    for n in range(rois.size(0)):
        b = int(rois[n, 0])
        x1 = rois[n, 1] * scale - 0.5
        y1 = rois[n, 2] * scale - 0.5
        rw = (rois[n, 3] * scale - 0.5 - x1).clamp(min=0.1)
        rh = (rois[n, 4] * scale - 0.5 - y1).clamp(min=0.1)
        bw, bh = rw / k, rh / k
        vals = []
        for ch in range(c):
            for i in range(k):
                for j in range(k):
                    dx = dy = 0
                    if offsets is not None:
                        t = ch // (c // (offsets.size(1) // 2))
                        pi, pj = i * part // k, j * part // k
                        dx = offsets[n, 2 * t, pi, pj] * trans_std * rw
                        dy = offsets[n, 2 * t + 1, pi, pj] * trans_std * rh
                    fmap = x[b, (i * k + j) * c + ch]
                    total, count = 0, 0
                    for sy in range(samples):
                        for sx in range(samples):
                            yy = y1 + i * bh + dy + (sy + 0.5) * bh / samples
                            xx = x1 + j * bw + dx + (sx + 0.5) * bw / samples
                            if not (-0.5 <= xx.item() <= w - 0.5 and -0.5 <= yy.item() <= h - 0.5):
                                continue
                            total = total + _bilinear(fmap, yy, xx)
                            count += 1
                    vals.append(total / count if count else x.new_zeros(()))
        rows.append(torch.stack(vals).view(c, k, k))
    return torch.stack(rows)


def _inputs(k=3, c=2, t=2, part=3):
    g = torch.Generator().manual_seed(0)
    x = torch.randn(2, k * k * c, 9, 11, generator=g, dtype=torch.float64)
    rois = torch.tensor(
        [
            [0, 3.0, 4.0, 70.0, 60.0],
            [1, -10.0, 5.0, 60.3, 90.0],  # crosses the border
            [1, 20.0, 20.0, 22.0, 21.0],  # smaller than a feature pixel
            [0, 17.5, 33.2, 58.9, 41.7],
        ],
        dtype=torch.float64,
    )
    offsets = torch.randn(4, 2 * t, part, part, generator=g, dtype=torch.float64) * 2
    return x, rois, offsets


@pytest.mark.parametrize('k,c,t,part,samples', [(3, 2, 2, 3, 2), (3, 4, 1, 2, 2), (2, 2, 1, 2, 1)])
def test_values_and_gradients_match_the_reference(k, c, t, part, samples):
    x, rois, offsets = _inputs(k, c, t, part)
    op = DeformPSRoIPool(k, 1 / 8, part_size=part, sample_per_part=samples, trans_std=0.1)
    x1, o1 = x.clone().requires_grad_(True), offsets.clone().requires_grad_(True)
    out = op(x1, rois, o1)
    x2, o2 = x.clone().requires_grad_(True), offsets.clone().requires_grad_(True)
    ref = _reference(x2, rois, o2, k, 1 / 8, part, samples, 0.1)
    assert out.shape == (4, c, k, k)
    torch.testing.assert_close(out, ref, rtol=1e-10, atol=1e-12)
    weight = torch.randn(out.shape, dtype=torch.float64, generator=torch.Generator().manual_seed(2))
    (out * weight).sum().backward()
    (ref * weight).sum().backward()
    assert x1.grad.abs().sum() > 0 and o1.grad.abs().sum() > 0
    torch.testing.assert_close(x1.grad, x2.grad, rtol=1e-10, atol=1e-12)
    torch.testing.assert_close(o1.grad, o2.grad, rtol=1e-9, atol=1e-11)


def test_without_offsets_and_many_rois():
    x, rois, _ = _inputs()
    rois = rois.repeat(40, 1)  # > one chunk of RoIs
    op = DeformPSRoIPool(3, 1 / 8, sample_per_part=2)
    out = op(x, rois)
    ref = _reference(x, rois[:4], None, 3, 1 / 8, 3, 2, 0.1)
    torch.testing.assert_close(out[:4], ref, rtol=1e-10, atol=1e-12)
    torch.testing.assert_close(out[-4:], ref, rtol=1e-10, atol=1e-12)


def test_zero_offsets_equal_ps_roi_align_on_interior_rois():
    # with samples inside the map, S samples at sub-bin centres = RoIAlign(sampling_ratio=S)
    x, _, _ = _inputs(k=3)
    rois = torch.tensor([[0, 8.0, 8.0, 60.0, 50.0], [1, 16.0, 10.0, 40.0, 62.0]], dtype=x.dtype)
    zero = torch.zeros(2, 2, 3, 3, dtype=x.dtype)
    out = DeformPSRoIPool(3, 1 / 8, sample_per_part=2)(x, rois, zero)
    torch.testing.assert_close(out, PSRoIAlign(3, 1 / 8, 2)(x, rois), rtol=1e-10, atol=1e-12)


def test_offset_moves_the_bin():
    # a single bright pixel; shifting bin (0, 0) by one bin width reads its neighbour's place
    k, c = 2, 1
    x = torch.zeros(1, k * k * c, 8, 8, dtype=torch.float64)
    x[0, 0, 1, 3] = 1.0  # group (0, 0) of channel 0: pixel (y=1, x=3)
    rois = torch.tensor([[0, 0.5, 0.5, 4.5, 4.5]], dtype=x.dtype)  # map box [0, 4) x [0, 4)
    op = DeformPSRoIPool(k, 1.0, part_size=k, sample_per_part=1, trans_std=1.0)
    still = op(x, rois, torch.zeros(1, 2, k, k, dtype=x.dtype))
    assert still[0, 0, 0, 0] == 0  # bin (0, 0) samples (y=1, x=1)
    off = torch.zeros(1, 2, k, k, dtype=x.dtype)
    off[0, 0, 0, 0] = 0.5  # x offset of half the RoI width: 2 pixels
    moved = op(x, rois, off)
    assert moved[0, 0, 0, 0] == 1.0 and moved[0, 0, 1, 1] == 0


def test_errors_and_repr():
    op = DeformPSRoIPool(7, 1 / 16)
    assert 'part_size=7' in repr(op) and 'sample_per_part=4' in repr(op)
    x = torch.randn(1, 49 * 2, 4, 4)
    rois = torch.tensor([[0, 0.0, 0.0, 30.0, 30.0]])
    with pytest.raises(ValueError, match='offsets must be'):
        op(x, rois, torch.zeros(1, 4, 3, 3))
    with pytest.raises(ValueError, match='divide'):
        op(x, rois, torch.zeros(1, 6, 7, 7))
    with pytest.raises(ValueError, match='multiple'):
        op(torch.randn(1, 50, 4, 4), rois)
    with pytest.raises(ValueError, match='batch indices'):
        op(x, torch.tensor([[1, 0.0, 0.0, 30.0, 30.0]]))
    with pytest.raises(ValueError, match='sample_per_part'):
        DeformPSRoIPool(7, 1 / 16, sample_per_part=0)
    assert op(x, rois[:0]).shape == (0, 2, 7, 7)

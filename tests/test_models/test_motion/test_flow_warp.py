import pytest
import torch

from mmpsla.models.motion import flow_warp_feats, resize_flow


def _feats(n=2, c=3, h=7, w=9, dtype=torch.float64):
    g = torch.Generator().manual_seed(0)
    return torch.randn(n, c, h, w, generator=g, dtype=dtype)


def test_zero_flow_is_identity():
    feats = _feats()
    flow = torch.zeros(2, 2, 7, 9, dtype=feats.dtype)
    out = flow_warp_feats(feats, flow)
    torch.testing.assert_close(out, feats, rtol=0, atol=1e-12)


def test_zero_flow_identity_from_other_resolution():
    feats = _feats(h=8, w=12)
    flow = torch.zeros(2, 2, 32, 48, dtype=feats.dtype)  # e.g. flow at stride 4
    torch.testing.assert_close(flow_warp_feats(feats, flow), feats, rtol=0, atol=1e-12)


@pytest.mark.parametrize('dx,dy', [(1, 0), (0, 2), (-2, 1), (3, -1)])
def test_integer_flow_is_exact_shift(dx, dy):
    feats = _feats()
    flow = torch.empty(2, 2, 7, 9, dtype=feats.dtype)
    flow[:, 0] = dx
    flow[:, 1] = dy
    out = flow_warp_feats(feats, flow)
    h, w = feats.shape[-2:]
    ys = slice(max(0, -dy), min(h, h - dy))
    xs = slice(max(0, -dx), min(w, w - dx))
    ys_src = slice(ys.start + dy, ys.stop + dy)
    xs_src = slice(xs.start + dx, xs.stop + dx)
    # out(y, x) = feats(y + dy, x + dx) wherever the source lies inside the map.
    torch.testing.assert_close(out[..., ys, xs], feats[..., ys_src, xs_src], rtol=0, atol=1e-12)


def test_border_padding_repeats_edge_and_zeros_mode():
    feats = _feats(n=1)
    flow = torch.zeros(1, 2, 7, 9, dtype=feats.dtype)
    flow[:, 0] = 100.0  # everything samples far right of the map
    out = flow_warp_feats(feats, flow)
    expected = feats[..., -1:].expand_as(feats)
    torch.testing.assert_close(out, expected, rtol=0, atol=1e-12)
    out_zeros = flow_warp_feats(feats, flow, padding_mode='zeros')
    assert torch.count_nonzero(out_zeros) == 0


def test_half_pixel_flow_interpolates():
    feats = _feats(n=1)
    flow = torch.zeros(1, 2, 7, 9, dtype=feats.dtype)
    flow[:, 0] = 0.5
    out = flow_warp_feats(feats, flow)
    expected = 0.5 * (feats[..., :-1] + feats[..., 1:])
    torch.testing.assert_close(out[..., :-1], expected, rtol=0, atol=1e-12)


def test_flow_values_rescaled_with_resolution():
    # a flow of 4 px on a 4x finer grid is 1 px on the feature grid
    feats = _feats(n=1, h=6, w=8)
    flow = torch.zeros(1, 2, 24, 32, dtype=feats.dtype)
    flow[:, 0] = 4.0
    out = flow_warp_feats(feats, flow)
    torch.testing.assert_close(out[..., :-1], feats[..., 1:], rtol=0, atol=1e-12)
    resized = resize_flow(flow, (6, 8))
    torch.testing.assert_close(resized[:, 0], torch.ones(1, 6, 8, dtype=feats.dtype))
    torch.testing.assert_close(resized[:, 1], torch.zeros(1, 6, 8, dtype=feats.dtype))


def test_gradients_reach_feats_and_flow():
    feats = _feats(n=1).requires_grad_()
    flow = (0.3 * torch.rand(1, 2, 7, 9, dtype=feats.dtype) + 0.2).requires_grad_()
    out = flow_warp_feats(feats, flow)
    (out * torch.linspace(0, 1, out.numel(), dtype=out.dtype).view_as(out)).sum().backward()
    assert feats.grad is not None and feats.grad.abs().sum() > 0
    assert flow.grad is not None and flow.grad.abs().sum() > 0
    torch.autograd.gradcheck(
        lambda f, fl: flow_warp_feats(f, fl),
        (
            feats.detach()[..., :4, :5].clone().requires_grad_(),
            flow.detach()[..., :4, :5].clone().requires_grad_(),
        ),
    )


def test_bad_inputs():
    feats = _feats()
    with pytest.raises(ValueError, match='feats'):
        flow_warp_feats(feats[0], torch.zeros(2, 2, 7, 9))
    with pytest.raises(ValueError, match='flow'):
        flow_warp_feats(feats, torch.zeros(2, 3, 7, 9))
    with pytest.raises(ValueError, match='batch'):
        flow_warp_feats(feats, torch.zeros(1, 2, 7, 9))
    with pytest.raises(ValueError, match='padding_mode'):
        flow_warp_feats(feats, torch.zeros(2, 2, 7, 9), padding_mode='nearest')

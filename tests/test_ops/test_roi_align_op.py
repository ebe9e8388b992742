"""mmpsla.ops.roi_align: the compiled CPU RoIAlign against mmcv's (the reference), values and
gradients, every geometry option; gradcheck, opcheck, bad inputs, the fallback rule, and the
RoI extractor that builds it from an mmdet config."""

import pytest
import torch
from mmcv.ops import roi_align as mmcv_roi_align

from mmpsla.ops import RoIAlign, psla_op, roi_align


def _inputs(n=2, c=5, h=9, w=13, r=24, dtype=torch.float64, seed=0):
    """A map (n, c, h, w) and RoIs (batch, x1, y1, x2, y2) of a (16h x 16w)-pixel image, some
    partly or wholly outside it, one degenerate (a point) and one on the right border."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, c, h, w, generator=g, dtype=dtype)
    start = torch.rand(r, 2, generator=g, dtype=dtype) * torch.tensor([16.0 * w, 16.0 * h]) - 30
    size = torch.rand(r, 2, generator=g, dtype=dtype) * torch.tensor([10.0 * w, 10.0 * h])
    batch = torch.randint(0, n, (r, 1), generator=g).to(dtype)
    rois = torch.cat([batch, start, start + size], 1)
    rois[0, 1:] = torch.tensor([40.0, 40.0, 40.0, 40.0])
    rois[1, 1:] = torch.tensor([16.0 * w - 20, 50.0, 16.0 * w + 10, 90.0])
    rois[2, 1:] = torch.tensor([-400.0, -400.0, -300.0, -300.0])  # outside the map
    return x, rois


@pytest.mark.parametrize('dtype', [torch.float64, torch.float32])
@pytest.mark.parametrize('aligned', [True, False])
@pytest.mark.parametrize('sampling_ratio', [0, 1, 3])
@pytest.mark.parametrize('output_size', [(7, 7), (2, 5)])
def test_matches_mmcv_values_and_gradients(
    require_ext, dtype, aligned, sampling_ratio, output_size
):
    x, rois = _inputs(dtype=dtype, seed=sampling_ratio + 7 * aligned)
    x.requires_grad_()
    args = (output_size, 1 / 16, sampling_ratio)
    ours = roi_align(x, rois, *args, aligned)
    ref = mmcv_roi_align(x, rois, *args, 'avg', aligned)
    tol = dict(rtol=1e-12, atol=1e-12) if dtype == torch.float64 else dict(rtol=1e-5, atol=1e-6)
    assert ours.shape == (rois.size(0), x.size(1), *output_size)
    assert ours.abs().sum() > 0 and ours[2].abs().sum() == 0  # the RoI outside reads zeros
    torch.testing.assert_close(ours, ref, **tol)
    grad = torch.randn_like(ref)
    (g_ours,) = torch.autograd.grad(ours, x, grad)
    (g_ref,) = torch.autograd.grad(ref, x, grad)
    torch.testing.assert_close(g_ours, g_ref, **tol)


def test_hand_computed_bin(require_ext):
    """One RoI on a ramp map x[y][x] = 10 y + x, one bin, 2 x 2 samples: the mean of the
    sample points' ramp values (bilinear reproduces a linear map exactly)."""
    x = (10 * torch.arange(6.0)[:, None] + torch.arange(8.0)[None]).double()[None, None]
    rois = torch.tensor([[0.0, 1.0, 2.0, 5.0, 4.0]], dtype=torch.float64)  # scale 1
    out = roi_align(x, rois, 1, 1.0, 2, aligned=True)
    # aligned: box [0.5, 4.5] x [1.5, 3.5]; samples at x 1.5, 3.5 and y 2.0, 3.0
    assert out.item() == pytest.approx(10 * 2.5 + 2.5)


def test_gradcheck(require_ext):
    x, rois = _inputs(n=1, c=2, h=5, w=6, r=6, seed=3)
    x.requires_grad_()
    assert torch.autograd.gradcheck(lambda x: roi_align(x, rois, 3, 1 / 16, 0, True), (x,))


def test_custom_op_passes_opcheck(require_ext):
    x, rois = _inputs(n=1, c=3, h=5, w=6, r=5, seed=4)
    torch.library.opcheck(
        torch.ops.mmpsla.roi_align_forward.default,
        (x.requires_grad_(), rois, 3, 2, 1 / 16, 0, True),
        test_utils=('test_schema', 'test_autograd_registration', 'test_faketensor'),
    )


def test_no_rois_and_bad_inputs(require_ext):
    x, rois = _inputs()
    x.requires_grad_()
    empty = roi_align(x, rois[:0], 7, 1 / 16)
    assert empty.shape == (0, x.size(1), 7, 7)
    empty.sum().backward()
    assert torch.equal(x.grad, torch.zeros_like(x))
    with pytest.raises(ValueError, match='output_size must be positive'):
        roi_align(x, rois, (0, 7), 1 / 16)
    with pytest.raises(ValueError, match='spatial_scale must be positive'):
        roi_align(x, rois, 7, 0.0)
    with pytest.raises(ValueError, match='sampling_ratio must be >= 0'):
        roi_align(x, rois, 7, 1 / 16, -1)
    with pytest.raises(ValueError, match=r'x must be \(N, C, H, W\)'):
        roi_align(x[0], rois, 7, 1 / 16)
    with pytest.raises(ValueError, match=r'rois must be \(R, 5\)'):
        roi_align(x, rois[:, :4], 7, 1 / 16)
    with pytest.raises(ValueError, match=r'batch indices must lie in \[0, 2\)'):
        roi_align(x, rois + torch.tensor([5.0, 0, 0, 0, 0], dtype=rois.dtype), 7, 1 / 16)
    inverted = rois.clone()
    inverted[1, 1:] = torch.tensor([90.0, 80.0, 50.0, 30.0])
    with pytest.raises(ValueError, match='inverted box'):
        roi_align(x, inverted, 7, 1 / 16)
    torch.testing.assert_close(  # not aligned: clamped to one pixel, as in mmcv
        roi_align(x, inverted, 7, 1 / 16, aligned=False),
        mmcv_roi_align(x, inverted, 7, 1 / 16, 0, 'avg', False),
    )
    with pytest.raises(ValueError, match='float32 or float64'):
        roi_align(x.detach().half(), rois, 7, 1 / 16)
    with pytest.raises(ValueError, match="pool_mode='max'"):
        RoIAlign(7, pool_mode='max')


def test_missing_extension_raises_unless_mmcv_is_allowed(monkeypatch):
    monkeypatch.setattr(psla_op, '_ext', None)
    monkeypatch.setattr(psla_op, '_warned', set())
    monkeypatch.delenv(psla_op.ALLOW_REFERENCE_ENV, raising=False)
    x, rois = _inputs()
    with pytest.raises(RuntimeError, match='MMPSLA_ALLOW_REFERENCE_OP=1'):
        roi_align(x, rois, 7, 1 / 16)
    monkeypatch.setenv(psla_op.ALLOW_REFERENCE_ENV, '1')
    with pytest.warns(RuntimeWarning):
        out = roi_align(x, rois, 7, 1 / 16)
    torch.testing.assert_close(out, mmcv_roi_align(x, rois, 7, 1 / 16, 0, 'avg', True))


def test_ops_roi_extractor_builds_mmpsla_roi_align_with_mmdets_numbers(require_ext):
    """The toy / Faster R-CNN configs' extractor: the same config as mmdet's
    SingleRoIExtractor, mmpsla's RoIAlign inside, the same RoI features."""
    from mmdet.registry import MODELS
    from mmengine.registry import init_default_scope

    import mmpsla.models  # noqa: F401  (registers OpsSingleRoIExtractor)

    init_default_scope('mmdet')
    cfg = dict(
        roi_layer=dict(type='RoIAlign', output_size=7, sampling_ratio=0),
        out_channels=5,
        featmap_strides=[16],
    )
    ours = MODELS.build(dict(type='OpsSingleRoIExtractor', **cfg))
    theirs = MODELS.build(dict(type='SingleRoIExtractor', **cfg))
    assert isinstance(ours.roi_layers[0], RoIAlign)
    assert type(theirs.roi_layers[0]).__module__.startswith('mmcv')
    x, rois = _inputs(dtype=torch.float32)
    torch.testing.assert_close(ours((x,), rois), theirs((x,), rois), rtol=1e-5, atol=1e-6)

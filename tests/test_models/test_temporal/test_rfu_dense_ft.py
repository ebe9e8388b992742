"""RFU (Update Net) and DenseFT (Transform Net + Quality Net)."""

import pytest
import torch

from mmpsla.models.temporal import RFU, DenseFT, FusionWeightNet

ALIGN = {'type': 'PSLAAlign', 'embed_channels': 4, 'max_displacement': 2}


def _randomise(module):
    torch.manual_seed(0)
    for p in module.parameters():
        torch.nn.init.normal_(p, std=0.3)


def test_fusion_weights_sum_to_one_per_pixel():
    net = FusionWeightNet(in_channels=6, hidden_channels=(8, 4))
    _randomise(net)
    a, b = torch.randn(2, 6, 5, 7), torch.randn(2, 6, 5, 7)
    w_a, w_b = net(a, b)
    assert w_a.shape == w_b.shape == (2, 1, 5, 7)
    torch.testing.assert_close(w_a + w_b, torch.ones(2, 1, 5, 7))
    assert (w_a > 0).all() and (w_b > 0).all()
    assert not torch.allclose(w_a, torch.full_like(w_a, 0.5))  # not a constant blend
    torch.testing.assert_close(net.fuse(a, b), w_a * a + w_b * b)
    # a freshly built net starts as an even blend
    fresh = FusionWeightNet(in_channels=6, hidden_channels=(8, 4))
    torch.testing.assert_close(fresh(a, b)[0], torch.full_like(w_a, 0.5))


def test_fusion_layer_shapes_follow_the_paper():
    net = FusionWeightNet(in_channels=1024)
    convs = [m for m in net.layers if isinstance(m, torch.nn.Conv2d)]
    assert [(c.in_channels, c.out_channels, c.kernel_size) for c in convs] == [
        (2048, 256, (1, 1)),
        (256, 16, (3, 3)),
        (16, 2, (3, 3)),
    ]


def test_rfu_update_is_eq6_and_initialises_on_first_key_frame():
    rfu = RFU(in_channels=6, align=ALIGN, update_channels=(8, 4))
    _randomise(rfu)
    key = torch.randn(1, 6, 5, 5)
    first, (w_hat, w) = rfu(key, None, return_weights=True)
    assert torch.equal(first, key) and (w == 1).all() and (w_hat == 0).all()
    temporal = torch.randn(1, 6, 5, 5)
    new, (w_hat, w) = rfu(key, temporal, return_weights=True)
    aligned = rfu.align(key, temporal)
    torch.testing.assert_close(new, w_hat * aligned + w * key)
    torch.testing.assert_close(w_hat + w, torch.ones(1, 1, 5, 5))


@pytest.mark.parametrize('use_quality_net', [True, False])
def test_dense_ft(use_quality_net):
    dft = DenseFT(
        in_channels=5,
        out_channels=6,
        transform_channels=(3, 4),
        align=ALIGN,
        use_quality_net=use_quality_net,
        quality_channels=(8, 4),
        quality_input='transform',
        transform_shortcut=False,
    )
    _randomise(dft)
    low = torch.randn(2, 5, 4, 6, requires_grad=True)
    temporal = torch.randn(2, 6, 4, 6, requires_grad=True)
    out, weights = dft(low, temporal, return_weights=True)
    assert out.shape == (2, 6, 4, 6)
    query = dft.transform_net(low)
    aligned = dft.align(query, temporal)
    if use_quality_net:
        torch.testing.assert_close(weights[0] + weights[1], torch.ones(2, 1, 4, 6))
        torch.testing.assert_close(out, weights[0] * aligned + weights[1] * query)
    else:
        assert weights is None and dft.quality_net is None
        torch.testing.assert_close(out, aligned)
    out.sum().backward()
    assert low.grad.abs().sum() > 0 and temporal.grad.abs().sum() > 0
    convs = [m for m in dft.transform_net if isinstance(m, torch.nn.Conv2d)]
    assert [(c.out_channels, c.kernel_size) for c in convs] == [
        (3, (1, 1)),
        (4, (3, 3)),
        (6, (3, 3)),
    ]


def test_dense_ft_paper_reading_fuses_with_f_low_and_has_a_shortcut():
    dft = DenseFT(in_channels=6, out_channels=6, transform_channels=(3, 4), align=ALIGN)
    assert dft.quality_input == 'low' and dft.transform_net.shortcut
    assert dft.transform_net.projection is None  # identity shortcut: 6 -> 6 channels
    _randomise(dft)
    low, temporal = torch.randn(2, 6, 4, 6), torch.randn(2, 6, 4, 6)
    out, (w_hat, w) = dft(low, temporal, return_weights=True)
    net = dft.transform_net
    residual = net[4](net[3](net[2](net[1](net[0](low)))))
    query = (residual + low).relu()  # Sec. 3.5: a bottleneck block
    torch.testing.assert_close(net(low), query)
    aligned = dft.align(query, temporal)
    torch.testing.assert_close(w_hat, dft.quality_net(aligned, low)[0])
    torch.testing.assert_close(out, w_hat * aligned + w * low)  # Sec. 3.4: "fuse with F_l"


def test_dense_ft_option_errors_and_projection_shortcut():
    with pytest.raises(ValueError, match="quality_input='low'"):
        DenseFT(in_channels=5, out_channels=6, transform_channels=(3, 4), align=ALIGN)
    with pytest.raises(ValueError, match='quality_input must be'):
        DenseFT(in_channels=6, out_channels=6, align=ALIGN, quality_input='high')
    dft = DenseFT(
        in_channels=5,
        out_channels=6,
        transform_channels=(3, 4),
        align=ALIGN,
        quality_input='transform',
    )
    net = dft.transform_net
    assert net.projection.in_channels == 5 and net.projection.out_channels == 6
    low = torch.randn(1, 5, 3, 3)
    residual = net[4](net[3](net[2](net[1](net[0](low)))))
    torch.testing.assert_close(net(low), (residual + net.projection(low)).relu())


@pytest.mark.parametrize('scope', ['mmseg', 'mmdet', 'mmengine'])
def test_nested_align_builds_under_any_default_scope(scope):
    # RFU / DenseFT build their align module in mmdet's scope: under default_scope='mmseg'
    # (a video segmentor, or any mmseg run earlier in the process) a plain MODELS.build
    # looked for PSLAAlign in mmseg's registry and failed
    from mmengine.registry import DefaultScope

    from mmpsla.models.align import PSLAAlign

    with DefaultScope.overwrite_default_scope(scope):
        rfu = RFU(in_channels=6, align=ALIGN, update_channels=(8, 4))
        dft = DenseFT(in_channels=6, out_channels=6, transform_channels=(3, 4), align=ALIGN)
    assert isinstance(rfu.align, PSLAAlign) and isinstance(dft.align, PSLAAlign)


def test_cached_temporal_key_is_computed_once_per_f_t():
    """The stream cache of f(F_t): the same tensor as embed_temporal, reused while F_t is
    the same tensor, recomputed when a key frame replaces F_t."""
    dft = DenseFT(in_channels=6, out_channels=6, transform_channels=(3, 4), align=ALIGN)
    _randomise(dft)
    calls = []
    dft.align.key_embed.register_forward_hook(lambda m, a, out: calls.append(1))
    state = {'temporal': torch.randn(1, 6, 4, 6)}
    with torch.no_grad():
        first = dft.cached_temporal_key(state)
        torch.testing.assert_close(first, dft.align.embed_ref(state['temporal']), rtol=0, atol=0)
        assert dft.cached_temporal_key(state) is first and len(calls) == 2  # 1 + the check
        state['temporal'] = torch.randn(1, 6, 4, 6)  # a new key frame
        second = dft.cached_temporal_key(state)
        assert len(calls) == 3 and not torch.equal(second, first)  # one new embedding
        torch.testing.assert_close(second, dft.align.embed_ref(state['temporal']), rtol=0, atol=0)

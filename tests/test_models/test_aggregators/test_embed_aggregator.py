import pytest
import torch
from mmdet.registry import MODELS

from mmpsla.models.aggregators import EmbedAggregator


def _build(**kwargs):
    cfg = dict(type='EmbedAggregator', num_convs=2, channels=8, kernel_size=3)
    cfg.update(kwargs)
    return MODELS.build(cfg)


def test_weights_sum_to_one_and_output_is_weighted_sum():
    torch.manual_seed(0)
    agg = _build()
    x = torch.randn(1, 8, 5, 6)
    ref_x = torch.randn(4, 8, 5, 6)
    out, weights = agg(x, ref_x, return_weights=True)
    assert out.shape == (1, 8, 5, 6)
    assert weights.shape == (4, 1, 5, 6)
    assert (weights > 0).all()
    torch.testing.assert_close(weights.sum(0), torch.ones(1, 5, 6))
    torch.testing.assert_close(out, (weights * ref_x).sum(0, keepdim=True))


def test_weights_are_softmax_of_cosine_similarity():
    torch.manual_seed(1)
    agg = _build(num_convs=1)
    x = torch.randn(1, 8, 3, 4)
    ref_x = torch.randn(3, 8, 3, 4)
    _, weights = agg(x, ref_x, return_weights=True)
    conv = agg.embed_convs[0].conv
    e_x = torch.nn.functional.cosine_similarity(conv(ref_x), conv(x), dim=1)  # (3, 3, 4)
    torch.testing.assert_close(weights[:, 0], e_x.softmax(0), atol=1e-5, rtol=1e-5)


def test_identical_features_give_input_back():
    torch.manual_seed(2)
    agg = _build()
    x = torch.randn(1, 8, 5, 6)
    out, weights = agg(x, x.repeat(3, 1, 1, 1), return_weights=True)
    torch.testing.assert_close(out, x)
    torch.testing.assert_close(weights, torch.full_like(weights, 1 / 3))


def test_most_similar_reference_dominates():
    agg = EmbedAggregator(num_convs=1, channels=4, kernel_size=1)
    with torch.no_grad():  # identity embedding: weights follow raw cosine similarity
        agg.embed_convs[0].conv.weight.copy_(torch.eye(4).view(4, 4, 1, 1) * 10)
        agg.embed_convs[0].conv.bias.zero_()
    x = torch.tensor([1.0, 0, 0, 0]).view(1, 4, 1, 1).expand(1, 4, 2, 2).contiguous()
    ref = torch.stack([x[0], -x[0], torch.roll(x[0], 1, 0)])
    _, weights = agg(x, ref, return_weights=True)
    e = torch.exp(torch.tensor([1.0, -1.0, 0.0]))
    torch.testing.assert_close(weights[:, 0, 0, 0], e / e.sum())


def test_gradients_and_repr():
    agg = _build()
    x = torch.randn(1, 8, 4, 4, requires_grad=True)
    ref_x = torch.randn(2, 8, 4, 4, requires_grad=True)
    agg(x, ref_x).sum().backward()
    assert x.grad.abs().sum() > 0 and ref_x.grad.abs().sum() > 0
    assert all(p.grad is not None for p in agg.parameters())
    assert 'num_convs=2, channels=8, kernel_size=3' in repr(agg)


def test_bad_inputs():
    with pytest.raises(ValueError, match='num_convs'):
        EmbedAggregator(num_convs=0)
    with pytest.raises(ValueError, match='kernel_size'):
        EmbedAggregator(kernel_size=2)
    agg = _build()
    with pytest.raises(ValueError, match='x must'):
        agg(torch.randn(2, 8, 4, 4), torch.randn(2, 8, 4, 4))
    with pytest.raises(ValueError, match='ref_x'):
        agg(torch.randn(1, 8, 4, 4), torch.randn(2, 8, 3, 4))
    with pytest.raises(ValueError, match='channels'):
        agg(torch.randn(1, 4, 4, 4), torch.randn(2, 4, 4, 4))


def test_fgfa_published_embedding_network():
    """FGFA's get_embednet: 1x1 1024->512, 3x3 512->512, 1x1 512->2048 (3.94M)."""
    agg = _build(num_convs=3, channels=1024, kernel_size=(1, 3, 1), embed_channels=(512, 512, 2048))
    convs = [m.conv for m in agg.embed_convs]
    assert [(c.in_channels, c.out_channels, c.kernel_size) for c in convs] == [
        (1024, 512, (1, 1)),
        (512, 512, (3, 3)),
        (512, 2048, (1, 1)),
    ]
    assert [m.with_activation for m in agg.embed_convs] == [True, True, False]
    expected = (1024 * 512 + 512) + (512 * 512 * 9 + 512) + (512 * 2048 + 2048)
    assert sum(p.numel() for p in agg.parameters()) == expected == 3_935_232
    x, ref_x = torch.randn(1, 1024, 3, 4), torch.randn(2, 1024, 3, 4)
    assert agg.embed(x).shape == (1, 2048, 3, 4)
    out, weights = agg(x, ref_x, return_weights=True)
    assert out.shape == (1, 1024, 3, 4)
    torch.testing.assert_close(weights.sum(0), torch.ones(1, 3, 4))


def test_per_conv_arguments_must_match_num_convs():
    with pytest.raises(ValueError, match='kernel_size needs one entry per conv'):
        EmbedAggregator(num_convs=3, channels=8, kernel_size=(1, 3))
    with pytest.raises(ValueError, match='embed_channels needs one entry per conv'):
        EmbedAggregator(num_convs=2, channels=8, embed_channels=(4,))
    with pytest.raises(ValueError, match='embed_channels must be positive'):
        EmbedAggregator(num_convs=1, channels=8, embed_channels=(0,))

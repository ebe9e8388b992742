"""SelsaAggregator: multi-head attention over reference proposals, against a plain loop."""

import math

import pytest
import torch

from mmpsla.models.aggregators import SelsaAggregator


def reference(agg: SelsaAggregator, x, ref_x):
    """The same function written per proposal and per head, without batched matmuls."""
    h = agg.num_attention_blocks
    d = x.size(1) // h
    q, k, v = agg.fc_embed(x), agg.ref_fc_embed(ref_x), agg.ref_fc(ref_x)
    out = torch.zeros_like(x)
    for i in range(x.size(0)):
        for head in range(h):
            sl = slice(head * d, (head + 1) * d)
            logits = torch.stack([q[i, sl] @ k[j, sl] / math.sqrt(d) for j in range(len(ref_x))])
            w = torch.softmax(logits, dim=0)
            out[i, sl] = sum(w[j] * v[j, sl] for j in range(len(ref_x)))
    return agg.fc(out)


def test_matches_per_head_loop_and_is_differentiable():
    torch.manual_seed(0)
    agg = SelsaAggregator(in_channels=32, num_attention_blocks=4)
    x, ref_x = torch.randn(5, 32, requires_grad=True), torch.randn(7, 32)
    out = agg(x, ref_x)
    assert out.shape == (5, 32)
    torch.testing.assert_close(out, reference(agg, x, ref_x))
    out.sum().backward()
    for layer in (agg.fc_embed, agg.ref_fc_embed, agg.ref_fc, agg.fc):
        assert layer.weight.grad.abs().sum() > 0
    assert x.grad.abs().sum() > 0
    weights = agg.attention(x, ref_x)
    assert weights.shape == (4, 5, 7)
    torch.testing.assert_close(weights.sum(-1), torch.ones(4, 5))


def test_single_reference_gets_all_the_weight():
    agg = SelsaAggregator(in_channels=16, num_attention_blocks=2)
    x, ref = torch.randn(3, 16), torch.randn(1, 16)
    expected = agg.fc(agg.ref_fc(ref)).expand(3, -1)
    torch.testing.assert_close(agg(x, ref), expected)


def test_bad_arguments():
    with pytest.raises(ValueError, match='divide'):
        SelsaAggregator(in_channels=30, num_attention_blocks=16)
    agg = SelsaAggregator(in_channels=16, num_attention_blocks=2)
    with pytest.raises(ValueError, match='no reference'):
        agg(torch.randn(3, 16), torch.randn(0, 16))
    with pytest.raises(ValueError, match=r'\(n, 16\)'):
        agg(torch.randn(3, 8), torch.randn(2, 8))

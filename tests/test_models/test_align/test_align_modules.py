"""Alignment modules: PSLA, DensePSLA, MatchTrans, Nonlocal share one interface."""

import pytest
import torch

from mmpsla.models.align import DensePSLAAlign, MatchTransAlign, NonLocalAlign, PSLAAlign
from mmpsla.ops import dense_offsets, psla_offsets, sparse_local_attention_reference

ALIGNS = [PSLAAlign, DensePSLAAlign, MatchTransAlign, NonLocalAlign]


def _identity_embeddings(module, gain: float) -> None:
    """Make f and g the identity (times ``gain``) on C == embed_channels features."""
    c = module.embed_channels
    eye = torch.eye(c).view(c, c, 1, 1)
    with torch.no_grad():
        module.query_embed.weight.copy_(eye * gain)
        module.key_embed.weight.copy_(eye)
        module.query_embed.bias.zero_()
        module.key_embed.bias.zero_()


@pytest.mark.parametrize('cls', ALIGNS)
def test_interface_shapes_and_gradients(cls):
    torch.manual_seed(0)
    module = cls(
        in_channels=6,
        embed_channels=4,
        query_channels=5,
        **({} if cls is NonLocalAlign else {'max_displacement': 2}),
    )
    query = torch.randn(2, 5, 7, 9, requires_grad=True)
    ref = torch.randn(2, 6, 7, 9, requires_grad=True)
    out = module(query, ref)
    assert out.shape == (2, 6, 7, 9)
    out.square().sum().backward()
    assert query.grad.abs().sum() > 0 and ref.grad.abs().sum() > 0
    assert module.query_embed.weight.grad.abs().sum() > 0


@pytest.mark.parametrize('cls', [PSLAAlign, DensePSLAAlign, NonLocalAlign])
def test_identical_frames_with_sharp_affinities_return_input(cls):
    # one-hot features: a cell's code differs from every cell it attends to (its 3x3
    # neighbours for the local modules, all cells for Nonlocal); with identity embeddings
    # and a large gain the softmax puts all the weight on the same position: output = input.
    h, w = 5, 6
    if cls is NonLocalAlign:
        c, kwargs = h * w, {}
    else:  # codes repeat every 8 cells of the row-major order: no 3x3 neighbour shares one
        c, kwargs = 8, {'max_displacement': 1}
    codes = torch.arange(h * w).view(h, w) % c
    feat = torch.nn.functional.one_hot(codes, c).permute(2, 0, 1)[None].float()
    module = cls(in_channels=c, embed_channels=c, **kwargs)
    _identity_embeddings(module, gain=50.0)
    torch.testing.assert_close(module(feat, feat), feat, atol=1e-5, rtol=0)


def test_psla_matches_reference_and_uses_sparse_offsets():
    torch.manual_seed(0)
    module = PSLAAlign(in_channels=3, embed_channels=4, max_displacement=3, scale=0.5)
    assert module.offsets.shape == (1 + 8 * 3, 2)
    assert torch.equal(module.offsets, psla_offsets(3))
    q, r = torch.randn(1, 3, 6, 8), torch.randn(1, 3, 6, 8)
    out, weights = module(q, r, return_weights=True)
    query = module.query_embed(q) * 0.5
    key = module.key_embed(r)
    expected = sparse_local_attention_reference(query, key, r, psla_offsets(3))
    torch.testing.assert_close(out, expected)
    torch.testing.assert_close(weights.sum(1), torch.ones(1, 6, 8))


def test_dense_and_matchtrans_offsets_and_normalisation():
    d = 2
    dense = DensePSLAAlign(in_channels=3, embed_channels=4, max_displacement=d)
    match = MatchTransAlign(in_channels=3, embed_channels=4, max_displacement=d)
    assert torch.equal(dense.offsets, dense_offsets(d))
    assert match.offsets.shape[0] == (2 * d + 1) ** 2
    assert match.normalize == 'sum' and dense.normalize == 'softmax'
    torch.manual_seed(1)
    q, r = torch.randn(1, 3, 5, 5), torch.randn(1, 3, 5, 5)
    _, weights = match(q, r, return_weights=True)
    assert (weights >= 0).all()  # non-negative embeddings -> non-negative weights
    torch.testing.assert_close(weights.sum(1), torch.ones(1, 5, 5), atol=1e-3, rtol=0)
    # hand check of one MatchTrans weight: affinity / sum of in-map affinities
    qe, ke = match.embed(q, r)
    centre = (qe[0, :, 2, 2] * ke[0, :, 2, 2]).sum()
    total = sum(
        (qe[0, :, 2, 2] * ke[0, :, 2 + dy, 2 + dx]).sum() for dy, dx in dense_offsets(d).tolist()
    )
    centre_ind = dense_offsets(d).tolist().index([0, 0])
    torch.testing.assert_close(weights[0, centre_ind, 2, 2], centre / (total + 1e-6))


def test_nonlocal_weights_are_global_softmax():
    torch.manual_seed(0)
    module = NonLocalAlign(in_channels=3, embed_channels=2)
    q, r = torch.randn(1, 3, 3, 4), torch.randn(1, 3, 3, 4)
    out, weights = module(q, r, return_weights=True)
    assert weights.shape == (1, 12, 3, 4)
    torch.testing.assert_close(weights.sum(1), torch.ones(1, 3, 4))
    qe, ke = module.embed(q, r)
    aff = torch.einsum('c,cn->n', qe[0, :, 1, 2], ke[0].flatten(1))
    expected = (aff.softmax(0)[None] * r[0].flatten(1)).sum(1)
    torch.testing.assert_close(out[0, :, 1, 2], expected)


def test_bad_arguments():
    with pytest.raises(ValueError, match='max_displacement'):
        PSLAAlign(in_channels=4, max_displacement=0)
    with pytest.raises(ValueError, match='embed_channels'):
        PSLAAlign(in_channels=4, embed_channels=0)
    module = PSLAAlign(in_channels=4, embed_channels=2)
    with pytest.raises(ValueError, match='spatial'):
        module(torch.randn(1, 4, 5, 5), torch.randn(1, 4, 6, 5))
    assert 'max_displacement=4' in repr(module)


@pytest.mark.parametrize('align_cls', ALIGNS)
def test_precomputed_ref_key_gives_the_same_output(align_cls):
    """``embed_ref(ref)`` passed as ``ref_key`` (computed once per key frame) changes
    nothing; a key of the wrong shape is refused by name."""
    torch.manual_seed(0)
    module = align_cls(in_channels=6, embed_channels=4)
    q, r = torch.randn(2, 6, 5, 7), torch.randn(2, 6, 5, 7)
    key = module.embed_ref(r)
    assert key.shape == (2, 4, 5, 7)
    torch.testing.assert_close(module(q, r, ref_key=key), module(q, r), rtol=0, atol=0)
    with pytest.raises(ValueError, match='ref_key must be embed_ref'):
        module(q, r, ref_key=key[:, :3])

import math
import warnings

import pytest
import torch
from conftest import make_inputs

import mmpsla.ops.psla_op as sla_module
from mmpsla.ops import (
    dense_offsets,
    psla_offsets,
    sparse_local_attention,
    sparse_local_attention_reference,
)
from mmpsla.ops.source_hash import source_hash

BOTH = [
    pytest.param(sparse_local_attention, id='compiled'),
    pytest.param(sparse_local_attention_reference, id='reference'),
]


def valid_mask(offsets, h, w):
    """(N, H, W) bool: p + o inside the map, computed pixel by pixel."""
    mask = torch.zeros(len(offsets), h, w, dtype=torch.bool)
    for i, (dy, dx) in enumerate(offsets.tolist()):
        for y in range(h):
            for x in range(w):
                mask[i, y, x] = 0 <= y + dy < h and 0 <= x + dx < w
    return mask


# ----------------------------------------------------------------------------- hand-computed
def _tiny():
    q = torch.tensor([[1.0, 2.0], [0.0, 1.0]], dtype=torch.float64).view(1, 1, 2, 2)
    k = torch.tensor([[1.0, 0.0], [2.0, 1.0]], dtype=torch.float64).view(1, 1, 2, 2)
    v = torch.tensor([[10.0, 20.0], [30.0, 40.0]], dtype=torch.float64).view(1, 1, 2, 2)
    offsets = torch.tensor([[0, 0], [0, 1], [1, 0]])
    return q, k, v, offsets


@pytest.mark.parametrize('fn', BOTH)
def test_hand_computed_softmax(fn, request):
    if 'compiled' in request.node.name:
        request.getfixturevalue('require_ext')
    q, k, v, offsets = _tiny()
    out, weights = fn(q, k, v, offsets, 'softmax', return_weights=True)
    e = math.e
    # (0,0): affinities (1, 0, 2); (0,1): (0, -, 2); (1,0): (0, 0, -); (1,1): (1, -, -)
    expected_w = torch.tensor(
        [
            [[e, 1.0], [0.5, 1.0]],
            [[1.0, 0.0], [0.5, 0.0]],
            [[e * e, e * e], [0.0, 0.0]],
        ],
        dtype=torch.float64,
    )
    expected_w[:, 0, 0] /= 1 + e + e * e
    expected_w[:, 0, 1] /= 1 + e * e
    expected_out = torch.tensor(
        [
            [
                [(10 * e + 20 + 30 * e * e) / (1 + e + e * e), (20 + 40 * e * e) / (1 + e * e)],
                [35.0, 40.0],
            ]
        ],
        dtype=torch.float64,
    )
    torch.testing.assert_close(weights[0], expected_w, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(out[0], expected_out, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize('fn', BOTH)
def test_hand_computed_sum(fn, request):
    if 'compiled' in request.node.name:
        request.getfixturevalue('require_ext')
    q, k, v, offsets = _tiny()
    out, weights = fn(q, k, v, offsets, 'sum', return_weights=True)
    eps = 1e-6
    expected_w = torch.tensor(
        [
            [[1 / (3 + eps), 0.0], [0.0, 1 / (1 + eps)]],
            [[0.0, 0.0], [0.0, 0.0]],
            [[2 / (3 + eps), 2 / (2 + eps)], [0.0, 0.0]],
        ],
        dtype=torch.float64,
    )
    expected_out = torch.tensor(
        [[[70 / (3 + eps), 80 / (2 + eps)], [0.0, 40 / (1 + eps)]]], dtype=torch.float64
    )
    torch.testing.assert_close(weights[0], expected_w, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(out[0], expected_out, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize('fn', BOTH)
def test_sharp_self_affinity_returns_value(fn, request):
    if 'compiled' in request.node.name:
        request.getfixturevalue('require_ext')
    h, w = 5, 6
    # one-hot embedding per pixel: <e(p), e(p + o)> = 400 if o = 0 else 0
    emb = 20.0 * torch.eye(h * w, dtype=torch.float32).view(h * w, h, w).unsqueeze(0)
    value = torch.randn(1, 7, h, w)
    out = fn(emb, emb.clone(), value, psla_offsets(2))
    torch.testing.assert_close(out, value, rtol=1e-5, atol=1e-5)


# ----------------------------------------------------------------------- compiled vs reference
CASES = [
    # b, c, cv, h, w, offsets
    pytest.param(2, 5, 3, 7, 6, psla_offsets(2), id='psla2-B2-Cv!=C'),
    pytest.param(1, 3, 4, 3, 2, psla_offsets(4), id='map-smaller-than-window'),
    pytest.param(1, 4, 7, 5, 9, dense_offsets(2), id='dense2-non-square'),
    pytest.param(3, 1, 2, 4, 4, dense_offsets(1), id='dense1-C1-B3'),
    pytest.param(2, 3, 5, 40, 3, psla_offsets(4), id='tall-multi-task'),
    pytest.param(1, 2, 3, 3, 3, torch.tensor([[2, 2], [0, -1]]), id='pixels-without-offset'),
    # wider than the kernels' 32-column register chunks plus the border
    pytest.param(1, 3, 5, 6, 45, psla_offsets(4), id='wide-chunked'),
    pytest.param(2, 2, 3, 4, 75, dense_offsets(2), id='wide-chunked-dense'),
    pytest.param(1, 2, 2, 3, 50, torch.tensor([[0, 60], [1, 2], [-1, -3]]), id='wide-far-offset'),
]


def _run(fn, inputs, offsets, normalize, grads):
    q, k, v = inputs
    out, weights = fn(q, k, v, offsets, normalize, return_weights=True)
    loss = (out * grads[0]).sum() + (weights * grads[1]).sum()
    return (out, weights) + torch.autograd.grad(loss, (q, k, v))


@pytest.mark.parametrize('normalize', ['softmax', 'sum'])
@pytest.mark.parametrize('dtype', [torch.float64, torch.float32])
@pytest.mark.parametrize('b, c, cv, h, w, offsets', CASES)
def test_compiled_matches_reference(require_ext, b, c, cv, h, w, offsets, normalize, dtype):
    inputs = make_inputs(b, c, cv, h, w, dtype, non_negative=normalize == 'sum')
    g = torch.Generator().manual_seed(1)
    grads = (
        torch.randn(b, cv, h, w, generator=g, dtype=dtype),
        torch.randn(b, len(offsets), h, w, generator=g, dtype=dtype),
    )
    got = _run(sparse_local_attention, inputs, offsets, normalize, grads)
    ref = _run(sparse_local_attention_reference, inputs, offsets, normalize, grads)
    tol = dict(rtol=1e-10, atol=1e-10) if dtype == torch.float64 else dict(rtol=1e-4, atol=1e-4)
    for name, a, r in zip(('out', 'weights', 'grad_q', 'grad_k', 'grad_v'), got, ref):
        assert a.dtype == dtype, name
        torch.testing.assert_close(a, r, **tol, msg=lambda m, n=name: f'{n}: {m}')


@pytest.fixture
def cpu_isa(require_ext):
    """Forces the CPU kernels' instruction set for one test (capped at the CPU's best)."""
    previous = sla_module._ext._set_cpu_isa('')
    yield lambda name: sla_module._ext._set_cpu_isa(name)
    sla_module._ext._set_cpu_isa(previous)


@pytest.mark.parametrize('isa', ['base', 'avx2', 'avx512'])
@pytest.mark.parametrize('normalize', ['softmax', 'sum'])
@pytest.mark.parametrize('dtype', [torch.float64, torch.float32])
@pytest.mark.parametrize(
    'b, c, cv, h, w, offsets',
    [
        # more channels than one correlate chunk (32) and one register block, several tiles
        pytest.param(2, 37, 13, 11, 70, psla_offsets(4), id='psla4-multi-tile'),
        pytest.param(1, 5, 7, 9, 21, dense_offsets(3), id='dense3'),
    ],
)
def test_every_cpu_isa_matches_reference(cpu_isa, isa, b, c, cv, h, w, offsets, normalize, dtype):
    cpu_isa(isa)
    inputs = make_inputs(b, c, cv, h, w, dtype, non_negative=normalize == 'sum', seed=7)
    g = torch.Generator().manual_seed(2)
    grads = (
        torch.randn(b, cv, h, w, generator=g, dtype=dtype),
        torch.randn(b, len(offsets), h, w, generator=g, dtype=dtype),
    )
    got = _run(sparse_local_attention, inputs, offsets, normalize, grads)
    # ground truth: the reference in float64 on the same inputs
    inputs64 = [t.detach().double().requires_grad_() for t in inputs]
    grads64 = [t.double() for t in grads]
    ref = _run(sparse_local_attention_reference, inputs64, offsets, normalize, grads64)
    tol = 1e-10 if dtype == torch.float64 else 1e-5
    for name, a, r in zip(('out', 'weights', 'grad_q', 'grad_k', 'grad_v'), got, ref):
        assert a.dtype == dtype, name
        err = ((a.double() - r).abs().max() / r.abs().max()).item()  # relative to the scale
        assert err <= tol, f'{isa} {name}: max error {err:.3g} of the largest value > {tol}'


@pytest.mark.parametrize('fn', BOTH)
@pytest.mark.parametrize('b, c, cv, h, w, offsets', CASES)
def test_weights_normalised_over_valid_offsets(fn, request, b, c, cv, h, w, offsets):
    if 'compiled' in request.node.name:
        request.getfixturevalue('require_ext')
    q, k, v = make_inputs(b, c, cv, h, w)
    out, weights = fn(q, k, v, offsets, return_weights=True)
    mask = valid_mask(offsets, h, w).expand_as(weights)
    assert torch.all(weights[~mask] == 0)
    assert torch.all(weights[mask] > 0)
    any_valid = mask.any(1)
    torch.testing.assert_close(
        weights.sum(1)[any_valid], torch.ones_like(weights.sum(1)[any_valid])
    )
    # pixels without any valid offset: zero output
    assert torch.all(out.permute(1, 0, 2, 3)[:, ~any_valid] == 0)


@pytest.mark.parametrize('fn', BOTH)
def test_non_contiguous_inputs(fn, request):
    if 'compiled' in request.node.name:
        request.getfixturevalue('require_ext')
    b, c, cv, h, w = 2, 3, 4, 5, 6
    base = torch.randn(b, h, 2 * c, w, dtype=torch.float64)
    q = base.permute(0, 2, 1, 3)[:, ::2]  # strided channels, permuted dims
    k = torch.randn(b, c, w, h, dtype=torch.float64).transpose(2, 3)
    v = torch.randn(b, cv, h, w + 3, dtype=torch.float64)[..., 1 : 1 + w]
    assert not (q.is_contiguous() or k.is_contiguous() or v.is_contiguous())
    offsets = psla_offsets(2)[torch.randperm(17)].t().contiguous().t()  # non-contiguous too
    out = fn(q, k, v, offsets)
    expected = sparse_local_attention_reference(
        q.contiguous(), k.contiguous(), v.contiguous(), offsets.contiguous()
    )
    torch.testing.assert_close(out, expected, rtol=1e-12, atol=1e-12)


def test_offsets_as_nested_list(require_ext):
    q, k, v = make_inputs(1, 2, 2, 4, 4)
    offs = psla_offsets(1)
    torch.testing.assert_close(
        sparse_local_attention(q, k, v, offs.tolist()), sparse_local_attention(q, k, v, offs)
    )


def test_gradient_only_through_weights(require_ext):
    q, k, v = make_inputs(1, 3, 2, 4, 5)
    offs = psla_offsets(1)
    _, w1 = sparse_local_attention(q, k, v, offs, return_weights=True)
    _, w2 = sparse_local_attention_reference(q, k, v, offs, return_weights=True)
    g1 = torch.autograd.grad(w1[:, 3].sum(), (q, k))
    g2 = torch.autograd.grad(w2[:, 3].sum(), (q, k))
    for a, r in zip(g1, g2):
        torch.testing.assert_close(a, r, rtol=1e-10, atol=1e-10)


# ----------------------------------------------------------------------------------- gradcheck
@pytest.mark.parametrize('normalize', ['softmax', 'sum'])
@pytest.mark.parametrize('fn', BOTH)
def test_gradcheck(fn, normalize, request):
    if 'compiled' in request.node.name:
        request.getfixturevalue('require_ext')
    inputs = make_inputs(2, 2, 3, 3, 4, non_negative=normalize == 'sum', seed=3)
    if normalize == 'sum':  # keep the sum normaliser away from 0
        inputs = [(t.detach() + 0.5).requires_grad_() if i < 2 else t for i, t in enumerate(inputs)]
    offsets = psla_offsets(1)
    assert torch.autograd.gradcheck(
        lambda q, k, v: fn(q, k, v, offsets, normalize, return_weights=True), inputs
    )


# ------------------------------------------------------------------------------- bad inputs
def _good():
    q = torch.randn(1, 3, 4, 5)
    return dict(query=q, key=torch.randn(1, 3, 4, 5), value=torch.randn(1, 2, 4, 5))


BAD = [
    (dict(query=torch.randn(3, 4, 5)), 'query must be 4-D'),
    (dict(key=torch.randn(1, 3, 4, 5, 1)), 'key must be 4-D'),
    (dict(value=torch.randn(2, 4, 5)), 'value must be 4-D'),
    (dict(query=[1.0]), 'query must be a torch.Tensor'),
    (dict(key=torch.randn(2, 3, 4, 5)), 'batch size'),
    (dict(value=torch.randn(2, 2, 4, 5)), 'batch size'),
    (dict(key=torch.randn(1, 3, 4, 6)), 'spatial size'),
    (dict(value=torch.randn(1, 2, 5, 5)), 'spatial size'),
    (dict(key=torch.randn(1, 4, 4, 5)), 'key must have as many channels as query'),
    (dict(key=torch.randn(1, 3, 4, 5, dtype=torch.float64)), 'key dtype'),
    (dict(value=torch.randn(1, 2, 4, 5, dtype=torch.float64)), 'value dtype'),
    (dict(query=torch.randn(1, 3, 4, 5).half()), 'supported on CUDA only'),
    (dict(query=torch.randint(0, 3, (1, 3, 4, 5))), 'unsupported dtype'),
    (dict(key=torch.randn(1, 3, 4, 5, device='meta')), 'one device'),
    (dict(offsets=torch.zeros(0, 2, dtype=torch.long)), 'must not be empty'),
    (dict(offsets=torch.zeros(3, 3, dtype=torch.long)), r'shape \(N, 2\)'),
    (dict(offsets=torch.zeros(2, dtype=torch.long)), r'shape \(N, 2\)'),
    (dict(offsets=torch.zeros(3, 2)), 'integer'),
    (dict(offsets=torch.zeros(3, 2, dtype=torch.bool)), 'integer'),
    (dict(offsets=[[0, 0], [1]]), 'offsets'),
    (dict(offsets=torch.zeros(3, 2, dtype=torch.long, device='meta')), 'offsets must be on'),
    (dict(normalize='l1'), 'normalize must be one of'),
    (dict(normalize=None), 'normalize must be one of'),
]


@pytest.mark.parametrize('fn', BOTH)
@pytest.mark.parametrize('override, match', BAD)
def test_bad_inputs_raise(fn, override, match):
    kwargs = dict(_good(), offsets=psla_offsets(1), normalize='softmax')
    kwargs.update(override)
    with pytest.raises(ValueError, match=match):
        fn(**kwargs)


def test_extension_checks_direct_calls(require_ext):
    ext = sla_module._ext
    q, k, v = torch.randn(1, 3, 4, 5), torch.randn(1, 3, 4, 5), torch.randn(1, 2, 4, 5)
    offs = psla_offsets(1)
    with pytest.raises(RuntimeError, match='key must have the shape of query'):
        ext.forward(q, k[:, :2], v, offs, 0)
    with pytest.raises(RuntimeError, match='offsets must be an integer tensor'):
        ext.forward(q, k, v, offs.float(), 0)
    with pytest.raises(RuntimeError, match='normalize must be 0'):
        ext.forward(q, k, v, offs, 5)
    with pytest.raises(RuntimeError, match='float32 or float64'):
        ext.forward(q.half(), k.half(), v.half(), offs, 0)
    out, w, d = ext.forward(q, k, v, offs, 0)
    with pytest.raises(RuntimeError, match='grad_out must have shape'):
        ext.backward(out[:, :1], None, q, k, v, offs, w, d, 0)


# ---------------------------------------------------------------------------------- fallback
def test_missing_extension_raises_without_opt_in(monkeypatch):
    monkeypatch.setattr(sla_module, '_ext', None)
    monkeypatch.delenv('MMPSLA_ALLOW_REFERENCE_OP', raising=False)
    assert not sla_module.ext_available()
    q, k, v = make_inputs(1, 2, 3, 4, 4)
    with pytest.raises(RuntimeError, match='not built.*make ext.*MMPSLA_ALLOW_REFERENCE_OP=1'):
        sparse_local_attention(q, k, v, psla_offsets(1))


def test_fallback_to_reference_with_opt_in_warns_once(monkeypatch):
    monkeypatch.setattr(sla_module, '_ext', None)
    monkeypatch.setattr(sla_module, '_warned', set())
    monkeypatch.setenv('MMPSLA_ALLOW_REFERENCE_OP', '1')
    q, k, v = make_inputs(1, 2, 3, 4, 4)
    offs = psla_offsets(1)
    with pytest.warns(RuntimeWarning, match='make ext'):
        out = sparse_local_attention(q, k, v, offs)
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        out2, weights = sparse_local_attention(q, k, v, offs, return_weights=True)
    ref = sparse_local_attention_reference(q, k, v, offs)
    torch.testing.assert_close(out, ref, rtol=0, atol=0)
    torch.testing.assert_close(out2, ref, rtol=0, atol=0)
    out.sum().backward()
    assert q.grad is not None and torch.isfinite(q.grad).all()


class _FakeExt:
    def __init__(self, fingerprint):
        self.fingerprint = fingerprint

    def source_hash(self):
        return self.fingerprint


def test_stale_extension_is_detected(require_ext, monkeypatch):
    # the extension built in this checkout matches its sources
    assert sla_module._stale_problem(sla_module._ext) is None
    assert sla_module._ext.source_hash() == source_hash(sla_module._CSRC)
    # one built from other sources (or by a version without a fingerprint) is stale
    for fake in (_FakeExt('0123456789abcdef'), object()):
        problem = sla_module._stale_problem(fake)
        assert problem is not None and 'stale' in problem and 'make ext' in problem
    monkeypatch.setattr(sla_module, '_STALE', sla_module._stale_problem(_FakeExt('0' * 16)))
    monkeypatch.delenv('MMPSLA_ALLOW_REFERENCE_OP', raising=False)
    assert not sla_module.ext_available()
    q, k, v = make_inputs(1, 2, 3, 4, 4)
    with pytest.raises(RuntimeError, match='stale.*MMPSLA_ALLOW_REFERENCE_OP=1'):
        sparse_local_attention(q, k, v, psla_offsets(1))


def test_source_hash_covers_paths_and_contents(tmp_path):
    (tmp_path / 'cpu').mkdir()
    (tmp_path / 'a.cpp').write_text('int a;')
    (tmp_path / 'cpu' / 'b.cpp').write_text('int b;')
    first = source_hash(str(tmp_path))
    assert len(first) == 16 and source_hash(str(tmp_path)) == first
    (tmp_path / 'cpu' / 'b.cpp').write_text('int b = 1;')
    second = source_hash(str(tmp_path))
    assert second != first
    (tmp_path / 'cpu' / 'b.cpp').rename(tmp_path / 'b.cpp')
    assert source_hash(str(tmp_path)) not in (first, second)

import pytest
import torch

from mmpsla.ops import dense_offsets, psla_offsets


def test_psla_offsets_d0_is_centre_only():
    assert psla_offsets(0).tolist() == [[0, 0]]


@pytest.mark.parametrize('d', [1, 2, 4, 7])
def test_psla_offsets_count_order_and_rings(d):
    offs = psla_offsets(d)
    assert offs.dtype == torch.long
    assert offs.shape == (1 + 8 * d, 2)
    assert offs[0].tolist() == [0, 0]
    for s in range(1, d + 1):
        ring = offs[1 + 8 * (s - 1) : 1 + 8 * s].tolist()
        expected = {(a, b) for a in (-s, 0, s) for b in (-s, 0, s)} - {(0, 0)}
        assert {tuple(o) for o in ring} == expected
        assert len(ring) == 8
    # progressively sparser: the ring index is the Chebyshev norm, non-decreasing
    cheb = offs.abs().amax(1)
    assert torch.all(cheb[1:] >= cheb[:-1])
    assert len({tuple(o) for o in offs.tolist()}) == offs.shape[0]


def test_psla_offsets_d1_exact():
    assert psla_offsets(1).tolist() == [
        [0, 0], [-1, -1], [-1, 0], [-1, 1], [0, -1], [0, 1], [1, -1], [1, 0], [1, 1]
    ]  # fmt: skip


@pytest.mark.parametrize('d', [0, 1, 4])
def test_dense_offsets(d):
    offs = dense_offsets(d)
    assert offs.dtype == torch.long
    assert offs.shape == ((2 * d + 1) ** 2, 2)
    expected = {(a, b) for a in range(-d, d + 1) for b in range(-d, d + 1)}
    assert {tuple(o) for o in offs.tolist()} == expected
    assert offs[0].tolist() == [-d, -d] and offs[-1].tolist() == [d, d]
    # every PSLA offset is in the dense window
    assert {tuple(o) for o in psla_offsets(d).tolist()} <= expected


@pytest.mark.parametrize('fn', [psla_offsets, dense_offsets])
@pytest.mark.parametrize('bad', [-1, 1.5, True, '2', None])
def test_offsets_reject_bad_displacement(fn, bad):
    with pytest.raises(ValueError, match='max_displacement'):
        fn(bad)

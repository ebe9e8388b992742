"""Offset sets of the sparse local attention operator."""

import torch

__all__ = ['psla_offsets', 'dense_offsets', 'check_displacement']


def check_displacement(max_displacement: int, minimum: int = 0) -> int:
    """The one rule for a maximum displacement d: an int (not a bool) >= ``minimum``.

    Args:
        max_displacement: d.
        minimum: smallest allowed d (0 for the offset sets, 1 for the alignment modules).

    Returns:
        ``max_displacement``.

    Raises:
        ValueError: naming ``max_displacement``.
    """
    if isinstance(max_displacement, bool) or not isinstance(max_displacement, int):
        raise ValueError(
            f'max_displacement must be an int >= {minimum}, got {max_displacement!r} '
            f'({type(max_displacement).__name__})'
        )
    if max_displacement < minimum:
        raise ValueError(f'max_displacement must be >= {minimum}, got {max_displacement}')
    return max_displacement


def psla_offsets(max_displacement: int) -> torch.Tensor:
    """Progressively sparser offsets of PSLA (paper Eq. 2-3).

    Φ_0 = {(0, 0)} and, for s = 1..d, Φ_s = {(a, b) : a, b ∈ {-s, 0, s}} \\ {(0, 0)}.

    Args:
        max_displacement: d >= 0.

    Returns:
        LongTensor (1 + 8d, 2) of (dy, dx) pairs ordered Φ_0, Φ_1, ..., Φ_d; inside a ring
        Φ_s the pairs are in row-major order of (a, b).
    """
    d = check_displacement(max_displacement)
    offs = [(0, 0)]
    for s in range(1, d + 1):
        offs += [(a, b) for a in (-s, 0, s) for b in (-s, 0, s) if (a, b) != (0, 0)]
    return torch.tensor(offs, dtype=torch.long)


def dense_offsets(max_displacement: int) -> torch.Tensor:
    """All offsets of the (2d+1) x (2d+1) window (DensePSLA, MatchTrans).

    Args:
        max_displacement: d >= 0.

    Returns:
        LongTensor ((2d+1)^2, 2) of (dy, dx) pairs in row-major order.
    """
    d = check_displacement(max_displacement)
    r = torch.arange(-d, d + 1)
    dy, dx = torch.meshgrid(r, r, indexing='ij')
    return torch.stack([dy.reshape(-1), dx.reshape(-1)], dim=1).long()

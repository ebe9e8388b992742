"""Pure-PyTorch reference of the sparse local attention operator.

It is the fallback when the extension ``mmpsla._ext`` is not built and the ground truth
the compiled kernels are tested against (its gradients come from autograd).

Formulation: one loop over the N offsets. For an offset o = (dy, dx) the pixels p with
p + o inside the map form one rectangle, so every step works on two strided *views*
(query / output at p, key / value at p + o) of that rectangle: no padding, no unfold, no
N-fold copy of the value. The affinities go into a (B, N, H, W) tensor pre-filled with
-inf (softmax) or 0 (sum), so out-of-map offsets drop out of the normalisation, and the
aggregation accumulates in place with ``addcmul_`` into the output view.
"""

from typing import Sequence, Tuple, Union

import torch

from .validation import check_inputs

__all__ = ['sparse_local_attention_reference']

SUM_EPS = 1e-6


def _span(shift: int, size: int) -> Tuple[slice, slice]:
    """Slices (p, p + shift) over the positions p with both ends inside [0, size)."""
    lo, hi = max(0, -shift), min(size, size - shift)
    if lo >= hi:
        return slice(0, 0), slice(0, 0)
    return slice(lo, hi), slice(lo + shift, hi + shift)


def _reference(
    query: torch.Tensor,
    key: torch.Tensor,
    value: torch.Tensor,
    offsets: Sequence[Sequence[int]],
    mode: int,
) -> Tuple[torch.Tensor, torch.Tensor]:
    """The reference on validated inputs (mode 0: softmax, 1: sum)."""
    b, _, h, w = query.shape
    windows = []
    for dy, dx in offsets:
        (ys, yk), (xs, xk) = _span(dy, h), _span(dx, w)
        windows.append(None if ys.stop == 0 or xs.stop == 0 else (ys, xs, yk, xk))

    fill = float('-inf') if mode == 0 else 0.0
    logits = query.new_full((b, len(windows), h, w), fill)
    for i, win in enumerate(windows):
        if win is not None:
            ys, xs, yk, xk = win
            logits[:, i, ys, xs] = (query[:, :, ys, xs] * key[:, :, yk, xk]).sum(1)

    if mode == 0:
        # max over the valid offsets (-inf where there is none -> use 0); exp(-inf) = 0.
        peak = logits.detach().amax(1, keepdim=True)
        peak = torch.where(torch.isfinite(peak), peak, torch.zeros_like(peak))
        expo = torch.exp(logits - peak)
        total = expo.sum(1, keepdim=True)
        weights = expo / torch.where(total > 0, total, torch.ones_like(total))
    else:
        weights = logits / (logits.sum(1, keepdim=True) + SUM_EPS)

    out = value.new_zeros((b, value.shape[1], h, w))
    for i, win in enumerate(windows):
        if win is not None:
            ys, xs, yk, xk = win
            out[:, :, ys, xs].addcmul_(weights[:, i : i + 1, ys, xs], value[:, :, yk, xk])
    return out, weights


def sparse_local_attention_reference(
    query: torch.Tensor,
    key: torch.Tensor,
    value: torch.Tensor,
    offsets: Union[torch.Tensor, Sequence[Sequence[int]]],
    normalize: str = 'softmax',
    return_weights: bool = False,
) -> Union[torch.Tensor, Tuple[torch.Tensor, torch.Tensor]]:
    """Sparse local attention in plain PyTorch (same contract as the compiled op).

    Args:
        query: (B, C, H, W), e.g. g(F^{t+ε}).
        key: (B, C, H, W), e.g. f(F^t).
        value: (B, Cv, H, W), e.g. F^t.
        offsets: (N, 2) integer (dy, dx) pairs, e.g. :func:`psla_offsets`.
        normalize: ``'softmax'`` (PSLA) or ``'sum'`` (MatchTrans: affinities divided by their
            sum + 1e-6; meant for non-negative embeddings, e.g. after a ReLU).
        return_weights: also return the normalised weights.

    Returns:
        out (B, Cv, H, W) and, if ``return_weights``, weights (B, N, H, W); weights of
        offsets that leave the map are 0.
    """
    query, key, value, offs, mode = check_inputs(query, key, value, offsets, normalize)
    out, weights = _reference(query, key, value, offs.tolist(), mode)
    return (out, weights) if return_weights else out

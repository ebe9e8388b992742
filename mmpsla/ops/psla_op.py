"""The compiled sparse local attention operator, registered as a torch custom op.

``mmpsla::sparse_local_attention_forward`` / ``..._backward`` wrap the kernels of the
extension ``mmpsla._ext`` (C++ CPU, CUDA). They are ``torch.library`` custom ops with fake
(meta) implementations and a registered autograd formula, so modules using them work
under ``torch.compile`` without graph breaks.

No silent slow path: when the extension is missing, older than the sources in this
checkout (stale), or built without CUDA for a CUDA input, :func:`sparse_local_attention`
raises a ``RuntimeError`` that says how to build it. Setting the environment variable
``MMPSLA_ALLOW_REFERENCE_OP=1`` allows the pure-PyTorch reference instead (one warning).
"""

import os
import os.path as osp
import warnings
from typing import Optional, Sequence, Tuple, Union

import torch
from torch import Tensor

from .reference import _reference
from .source_hash import source_hash
from .validation import check_inputs

try:  # the compiled extension is optional
    from mmpsla import _ext

    _IMPORT_ERROR = ''
except ImportError as e:  # pragma: no cover - exercised by monkeypatching _ext in the tests
    _ext = None
    _IMPORT_ERROR = f' ({e})'

__all__ = ['sparse_local_attention', 'ext_available', 'ALLOW_REFERENCE_ENV']

#: environment variable that allows the pure-PyTorch reference when the extension is unusable
ALLOW_REFERENCE_ENV = 'MMPSLA_ALLOW_REFERENCE_OP'
_CSRC = osp.join(osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))), 'ops', 'csrc')
_BUILD = 'Build it with `make ext` (or `python setup.py build_ext --inplace`) in the checkout'
_BUILD_HINT = f'mmpsla._ext (the compiled ops) is not built{_IMPORT_ERROR}. {_BUILD}.'
_STALE_HINT = (
    'mmpsla._ext is stale: it was built from other sources than the ones in {csrc} '
    '(fingerprint {built} != {current}). Rebuild it: `make ext`.'
)
_NO_CUDA_HINT = (
    'mmpsla._ext was built without CUDA kernels, and the input is on CUDA. Rebuild it on a '
    'CUDA machine (`FORCE_CUDA=1 make ext`).'
)
_warned = set()


def _stale_problem(ext) -> Optional[str]:
    """Why ``ext`` does not match the sources of this checkout, or None (also when the
    sources are not there, e.g. in an installed wheel)."""
    if ext is None or not osp.isdir(_CSRC):
        return None
    built = ext.source_hash() if hasattr(ext, 'source_hash') else 'unknown (older build)'
    current = source_hash(_CSRC)
    return (
        None if built == current else _STALE_HINT.format(csrc=_CSRC, built=built, current=current)
    )


# computed once at import: the call path below only reads it (torch.compile traces it)
_STALE = _stale_problem(_ext)


def ext_available() -> bool:
    """Whether the compiled extension ``mmpsla._ext`` is importable and up to date."""
    return _ext is not None and _STALE is None


def _acc_dtype(dtype: torch.dtype) -> torch.dtype:
    """dtype of the weights the kernels keep: float64 for float64, float32 otherwise."""
    return torch.float64 if dtype == torch.float64 else torch.float32


@torch.library.custom_op('mmpsla::sparse_local_attention_forward', mutates_args=())
def _forward_op(
    query: Tensor, key: Tensor, value: Tensor, offsets: Tensor, mode: int
) -> Tuple[Tensor, Tensor, Tensor]:
    out, weights, denom = _ext.forward(query, key, value, offsets, mode)
    return out, weights, denom


@_forward_op.register_fake
def _forward_fake(query, key, value, offsets, mode):
    b, _, h, w = query.shape
    acc = _acc_dtype(query.dtype)
    return (
        value.new_empty((b, value.shape[1], h, w)),
        query.new_empty((b, offsets.shape[0], h, w), dtype=acc),
        query.new_empty((b, h, w), dtype=acc),
    )


@torch.library.custom_op('mmpsla::sparse_local_attention_backward', mutates_args=())
def _backward_op(
    grad_out: Tensor,
    grad_weights: Optional[Tensor],
    query: Tensor,
    key: Tensor,
    value: Tensor,
    offsets: Tensor,
    weights: Tensor,
    denom: Tensor,
    mode: int,
) -> Tuple[Tensor, Tensor, Tensor]:
    grad_query, grad_key, grad_value = _ext.backward(
        grad_out, grad_weights, query, key, value, offsets, weights, denom, mode
    )
    return grad_query, grad_key, grad_value


@_backward_op.register_fake
def _backward_fake(grad_out, grad_weights, query, key, value, offsets, weights, denom, mode):
    return torch.empty_like(query), torch.empty_like(key), torch.empty_like(value)


def _setup_context(ctx, inputs, output):
    query, key, value, offsets, mode = inputs
    _, weights, denom = output
    ctx.save_for_backward(query, key, value, offsets, weights, denom)
    ctx.mode = mode


def _backward(ctx, grad_out, grad_weights, grad_denom):
    query, key, value, offsets, weights, denom = ctx.saved_tensors
    if grad_out is None:
        b, _, h, w = query.shape
        grad_out = value.new_zeros((b, value.shape[1], h, w))
    grad_weights = None if grad_weights is None else grad_weights.contiguous()
    grad_query, grad_key, grad_value = _backward_op(
        grad_out.contiguous(), grad_weights, query, key, value, offsets, weights, denom, ctx.mode
    )
    return grad_query, grad_key, grad_value, None, None


_forward_op.register_autograd(_backward, setup_context=_setup_context)


def _allow_reference() -> bool:
    return os.environ.get(ALLOW_REFERENCE_ENV, '0').strip().lower() in ('1', 'true', 'yes')


def _use_ext(query: Tensor) -> bool:
    """Whether the compiled kernels serve ``query``'s device.

    Raises:
        RuntimeError: when they cannot (missing, stale, or no CUDA kernels for a CUDA input)
            and ``MMPSLA_ALLOW_REFERENCE_OP=1`` is not set; with it set, warns once and
            returns False (the caller then runs the reference).
    """
    if _ext is None:
        hint = _BUILD_HINT
    elif _STALE is not None:
        hint = _STALE
    elif query.device.type == 'cpu' or (query.device.type == 'cuda' and _ext.has_cuda()):
        return True
    else:
        hint = _NO_CUDA_HINT
    if not _allow_reference():
        raise RuntimeError(
            f'{hint} Refusing to fall back to the pure-PyTorch reference, which is many times '
            f'slower; set {ALLOW_REFERENCE_ENV}=1 to allow it.'
        )
    if hint not in _warned:
        _warned.add(hint)
        warnings.warn(
            f'{hint} {ALLOW_REFERENCE_ENV} is set: using the slower pure-PyTorch reference.',
            RuntimeWarning,
            stacklevel=3,
        )
    return False


def sparse_local_attention(
    query: Tensor,
    key: Tensor,
    value: Tensor,
    offsets: Union[Tensor, Sequence[Sequence[int]]],
    normalize: str = 'softmax',
    return_weights: bool = False,
) -> Union[Tensor, Tuple[Tensor, Tensor]]:
    """Sparse local attention (PSLA, paper Eq. 1, 4, 5) with the compiled kernels.

    For every pixel p and offset o with p + o inside the map, the affinity is
    c_o(p) = <query(p), key(p + o)>; offsets leaving the map take no part in the
    normalisation and contribute nothing (a pixel without any valid offset gets output 0
    and weights 0). Then out(p) = Σ_o w_o(p) value(p + o) with

    * ``'softmax'``: w = softmax over the valid offsets (max-subtracted, stable);
    * ``'sum'``: w = c / (Σ_valid c + 1e-6) (MatchTrans). This is meant for non-negative
      embeddings (e.g. after a ReLU); with mixed signs the sum can vanish and the weights
      blow up.

    Differentiable in query, key and value (and through the returned weights); offsets are
    static integers. float32/float64 on CPU and CUDA, float16/bfloat16 on CUDA (float32
    accumulation). Runs :func:`sparse_local_attention_reference` instead only when the
    extension is unusable and ``MMPSLA_ALLOW_REFERENCE_OP=1`` is set (see the module doc).

    Args:
        query: (B, C, H, W), e.g. g(F^{t+ε}).
        key: (B, C, H, W), e.g. f(F^t).
        value: (B, Cv, H, W), e.g. F^t.
        offsets: (N, 2) integer (dy, dx) pairs, e.g. :func:`psla_offsets` (CPU, or on the
            device of query).
        normalize: ``'softmax'`` or ``'sum'``.
        return_weights: also return the normalised weights.

    Returns:
        out (B, Cv, H, W) and, if ``return_weights``, weights (B, N, H, W) in query's dtype.

    Raises:
        ValueError: naming the argument, for malformed inputs.
        RuntimeError: when the extension is missing, stale or lacks CUDA kernels for a CUDA
            input, unless ``MMPSLA_ALLOW_REFERENCE_OP=1`` is set.
    """
    query, key, value, offsets, mode = check_inputs(query, key, value, offsets, normalize)
    if _use_ext(query):
        out, weights, _ = _forward_op(query, key, value, offsets, mode)
        weights = weights.to(query.dtype)
    else:
        out, weights = _reference(query, key, value, offsets.tolist(), mode)
    return (out, weights) if return_weights else out

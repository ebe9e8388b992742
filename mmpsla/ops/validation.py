"""Input validation shared by the compiled operator and the pure-PyTorch reference."""

from typing import Sequence, Tuple, Union

import torch

__all__ = ['NORMALIZE_MODES', 'check_inputs', 'shape_or_type']

#: normalisation name -> integer code understood by the compiled kernels.
NORMALIZE_MODES = {'softmax': 0, 'sum': 1}

_CUDA_ONLY_DTYPES = (torch.float16, torch.bfloat16)
_DTYPES = (torch.float32, torch.float64) + _CUDA_ONLY_DTYPES


def shape_or_type(obj: object) -> Union[Tuple[int, ...], str]:
    """``tuple(obj.shape)`` for a tensor, else the name of its type (for error messages)."""
    return tuple(obj.shape) if isinstance(obj, torch.Tensor) else type(obj).__name__


def _check_tensor(t: object, name: str, channels: str) -> torch.Tensor:
    if not isinstance(t, torch.Tensor):
        raise ValueError(f'{name} must be a torch.Tensor, got {type(t).__name__}')
    if t.dim() != 4:
        raise ValueError(f'{name} must be 4-D (B, {channels}, H, W), got shape {tuple(t.shape)}')
    return t


def check_inputs(
    query: torch.Tensor,
    key: torch.Tensor,
    value: torch.Tensor,
    offsets: Union[torch.Tensor, Sequence[Sequence[int]]],
    normalize: str,
) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor, int]:
    """Validates the operator's inputs and returns them ready for the kernels.

    Args:
        query: (B, C, H, W).
        key: (B, C, H, W).
        value: (B, Cv, H, W).
        offsets: (N, 2) integer (dy, dx) pairs (a tensor, or a nested sequence of ints).
        normalize: ``'softmax'`` or ``'sum'``.

    Returns:
        ``(query, key, value, offsets, mode)``: contiguous query/key/value, offsets as a
        contiguous int64 (N, 2) tensor on the CPU or on query's device, and the integer
        code of ``normalize``.

    Raises:
        ValueError: naming the bad argument.
    """
    query = _check_tensor(query, 'query', 'C')
    key = _check_tensor(key, 'key', 'C')
    value = _check_tensor(value, 'value', 'Cv')
    if key.shape[0] != query.shape[0] or value.shape[0] != query.shape[0]:
        raise ValueError(
            'query, key and value must share the batch size, got '
            f'{query.shape[0]}, {key.shape[0]}, {value.shape[0]}'
        )
    if key.shape[2:] != query.shape[2:] or value.shape[2:] != query.shape[2:]:
        raise ValueError(
            'query, key and value must share the spatial size (H, W), got '
            f'{tuple(query.shape[2:])}, {tuple(key.shape[2:])}, {tuple(value.shape[2:])}'
        )
    if key.shape[1] != query.shape[1]:
        raise ValueError(
            f'key must have as many channels as query ({query.shape[1]}), got {key.shape[1]}'
        )
    if key.device != query.device or value.device != query.device:
        raise ValueError(
            'query, key and value must be on one device, got '
            f'{query.device}, {key.device}, {value.device}'
        )
    if query.dtype not in _DTYPES:
        raise ValueError(f'query has unsupported dtype {query.dtype}; use one of {_DTYPES}')
    if query.dtype in _CUDA_ONLY_DTYPES and query.device.type != 'cuda':
        raise ValueError(
            f'query dtype {query.dtype} is supported on CUDA only; use float32 or float64 on '
            f'{query.device.type}'
        )
    for name, t in (('key', key), ('value', value)):
        if t.dtype != query.dtype:
            raise ValueError(f'{name} dtype {t.dtype} differs from query dtype {query.dtype}')
    offsets = _check_offsets(offsets, query.device)
    if not isinstance(normalize, str) or normalize not in NORMALIZE_MODES:
        raise ValueError(f'normalize must be one of {tuple(NORMALIZE_MODES)}, got {normalize!r}')
    return (
        query.contiguous(),
        key.contiguous(),
        value.contiguous(),
        offsets,
        NORMALIZE_MODES[normalize],
    )


def _check_offsets(
    offsets: Union[torch.Tensor, Sequence[Sequence[int]]], device: torch.device
) -> torch.Tensor:
    if not isinstance(offsets, torch.Tensor):
        try:
            offsets = torch.as_tensor(offsets)
        except (TypeError, ValueError, RuntimeError) as e:
            raise ValueError(f'offsets must be an (N, 2) integer tensor, got {offsets!r}') from e
    if offsets.dtype == torch.bool or offsets.dtype.is_floating_point or offsets.is_complex():
        raise ValueError(f'offsets must be an integer tensor, got dtype {offsets.dtype}')
    if offsets.dim() != 2 or offsets.shape[1] != 2:
        raise ValueError(f'offsets must have shape (N, 2), got {tuple(offsets.shape)}')
    if offsets.shape[0] == 0:
        raise ValueError('offsets must not be empty (N >= 1)')
    if offsets.device.type != 'cpu' and offsets.device != device:
        raise ValueError(
            f'offsets must be on the CPU or on the device of query ({device}), got '
            f'{offsets.device}'
        )
    return offsets.to(torch.long).contiguous()

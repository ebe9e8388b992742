"""Shared fixtures of the operator tests."""

import os

import pytest
import torch

from mmpsla.ops import ext_available


@pytest.fixture
def require_ext() -> None:
    """The compiled extension must be built, unless the build was disabled on purpose."""
    if os.environ.get('MMPSLA_WITH_OPS') == '0':
        pytest.skip('extension build disabled (MMPSLA_WITH_OPS=0)')
    assert ext_available(), 'mmpsla._ext is not built or is stale: run `make ext`'


def make_inputs(b, c, cv, h, w, dtype=torch.float64, non_negative=False, seed=0, device='cpu'):
    """Random (query, key, value) leaf tensors that require grad."""
    g = torch.Generator().manual_seed(seed)
    tensors = [
        torch.randn(b, c, h, w, generator=g, dtype=dtype),
        torch.randn(b, c, h, w, generator=g, dtype=dtype),
        torch.randn(b, cv, h, w, generator=g, dtype=dtype),
    ]
    if non_negative:
        tensors[0], tensors[1] = tensors[0].abs(), tensors[1].abs()
    return [t.to(device).requires_grad_() for t in tensors]

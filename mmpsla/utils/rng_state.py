"""Capture and restore the random number generators a training step draws from."""

import random
from typing import Any, Dict

import numpy as np
import torch


def capture_rng_state() -> Dict[str, Any]:
    """The states of Python's ``random``, numpy's global generator and torch (CPU, CUDA).

    Returns:
        A dict of plain Python values and uint8 tensors only (numpy's state is turned into
        lists), so it loads under ``torch.load(weights_only=True)``.
    """
    kind, keys, pos, has_gauss, cached = np.random.get_state()
    state = {
        'python': random.getstate(),
        'numpy': [kind, keys.tolist(), int(pos), int(has_gauss), float(cached)],
        'torch': torch.get_rng_state(),
    }
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state['torch_cuda'] = torch.cuda.get_rng_state_all()
    return state


def restore_rng_state(state: Dict[str, Any]) -> None:
    """Set the generators back to a state returned by :func:`capture_rng_state`."""
    python_state = state['python']
    version, internal, gauss = python_state
    random.setstate((version, tuple(internal), gauss))
    kind, keys, pos, has_gauss, cached = state['numpy']
    np.random.set_state((kind, np.asarray(keys, dtype=np.uint32), pos, has_gauss, cached))
    torch.set_rng_state(state['torch'])
    if 'torch_cuda' in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state['torch_cuda'])

"""Let ``torch.load(weights_only=True)`` read mmengine Runner checkpoints.

Since torch 2.6, ``torch.load`` defaults to ``weights_only=True`` and mmengine 0.10.7
calls it without the argument, so a Runner checkpoint (its message hub holds
:class:`~mmengine.logging.HistoryBuffer` objects with numpy arrays) fails to load:
``resume``, ``load_from`` and testing a trained model break.

The fix here is deliberately narrow: instead of turning the safety off, exactly the
globals that mmengine checkpoints contain are added to torch's allow-list:

* :class:`~mmengine.logging.HistoryBuffer` and the numpy pieces of its arrays
  (``_reconstruct``, ``ndarray``, ``dtype`` and its concrete classes, ``scalar``);
* ``builtins.getattr`` bound to :func:`history_buffer_method`, which only resolves the
  statistics methods registered on ``HistoryBuffer`` (a buffer pickles them as
  ``getattr(HistoryBuffer, 'mean')``) and refuses every other attribute lookup, so a
  malicious pickle gains nothing from it.
"""

from typing import Any, Callable

import numpy as np
import torch
from mmengine.logging import HistoryBuffer

_INSTALLED = False


def history_buffer_method(owner: Any, name: str) -> Callable:
    """Restricted stand-in for ``getattr`` while unpickling a checkpoint.

    Args:
        owner: The object whose attribute is looked up; only the
            ``HistoryBuffer`` class is accepted.
        name: The attribute; only a statistics method registered on
            ``HistoryBuffer`` (``min``, ``max``, ``current``, ``mean`` and any
            added with ``HistoryBuffer.register_statistics``) is accepted.

    Returns:
        The unbound statistics method.

    Raises:
        pickle.UnpicklingError: For anything else.
    """
    import pickle

    allowed = set(HistoryBuffer._statistics_methods) | {'min', 'max', 'current', 'mean'}
    if owner is HistoryBuffer and isinstance(name, str) and name in allowed:
        return getattr(HistoryBuffer, name)
    raise pickle.UnpicklingError(
        f'mmpsla: refusing getattr({owner!r}, {name!r}) in a weights-only checkpoint load; '
        'only HistoryBuffer statistics methods are allowed.'
    )


def _numpy_globals() -> list:
    multiarray = getattr(np, '_core', None) or np.core
    dtype_classes = [type(np.dtype(code)) for code in '?bBhHiIlLqQefdgFDGUS']
    return [
        multiarray.multiarray._reconstruct,
        multiarray.multiarray.scalar,
        np.ndarray,
        np.dtype,
        *dtype_classes,
    ]


def allow_mmengine_checkpoints() -> None:
    """Add the globals of mmengine checkpoints to torch's weights-only allow-list.

    Idempotent; called on ``import mmpsla``. A no-op on torch without
    ``torch.serialization.add_safe_globals`` (< 2.4), which loads them anyway.
    """
    global _INSTALLED
    if _INSTALLED or not hasattr(torch.serialization, 'add_safe_globals'):
        return
    torch.serialization.add_safe_globals(
        [HistoryBuffer, *_numpy_globals(), (history_buffer_method, 'builtins.getattr')]
    )
    _INSTALLED = True

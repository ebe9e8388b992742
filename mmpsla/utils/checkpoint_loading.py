"""A clear error, naming the file, when a local checkpoint is truncated or corrupt.

mmengine loads local checkpoints (``load_from``, ``--resume``, ``tools/test.py``,
:func:`mmpsla.apis.init_model`) through the loader registered for the empty prefix in
``mmengine.runner.CheckpointLoader``; it calls ``torch.load`` directly, so a truncated file
surfaces as ``PytorchStreamReader failed reading zip archive`` or ``Ran out of input``
from deep inside torch, without the file's name. :func:`install_checkpoint_loader`
registers :func:`load_from_local` in its place (``import mmpsla`` does it): the same
``torch.load`` call, with those failures turned into :class:`CheckpointLoadError`.
"""

import os.path as osp

import torch
from mmengine.runner import CheckpointLoader

# torch's own errors that are not about a damaged file pass through unchanged: a complete
# checkpoint holding a type outside the weights-only allow-list, a CUDA checkpoint on a
# machine without CUDA. (Garbage bytes also fail the weights-only unpickler, as an
# "Unsupported operand": that one is a damaged file.)
_NOT_CORRUPTION = ('Unsupported global', 'deserialize object on a CUDA device')


class CheckpointLoadError(RuntimeError):
    """A checkpoint file exists but cannot be read (truncated, corrupt, not a checkpoint)."""


def load_from_local(filename: str, map_location=None):
    """``torch.load`` a local checkpoint; a damaged file raises :class:`CheckpointLoadError`.

    Args:
        filename: Path of the checkpoint (``~`` is expanded).
        map_location: As for :func:`torch.load`.

    Returns:
        The loaded checkpoint (usually a dict).

    Raises:
        FileNotFoundError: If ``filename`` is not a file.
        CheckpointLoadError: If the file is empty, truncated or not a torch checkpoint.
    """
    filename = osp.expanduser(filename)
    if not osp.isfile(filename):
        what = 'is a directory, not a file' if osp.isdir(filename) else 'does not exist'
        raise FileNotFoundError(f'checkpoint {filename} {what}')
    size = osp.getsize(filename)
    try:
        return torch.load(filename, map_location=map_location)
    except Exception as err:  # noqa: BLE001  (classified below, re-raised unchanged if not ours)
        if any(marker in str(err) for marker in _NOT_CORRUPTION):
            raise
        reason = f'{type(err).__name__}: {str(err).strip().splitlines()[0] if str(err) else ""}'
        raise CheckpointLoadError(
            f'checkpoint {filename} ({size} bytes) cannot be read: it is truncated, corrupt or '
            f'not a torch checkpoint ({reason}). Use a complete copy: re-download it, or pick '
            "the previous checkpoint of the run (the work dir's `last_checkpoint` names the "
            'newest one that was completely written).'
        ) from None


def install_checkpoint_loader() -> None:
    """Register :func:`load_from_local` for local paths in mmengine (idempotent)."""
    CheckpointLoader.register_scheme(prefixes='', loader=load_from_local, force=True)

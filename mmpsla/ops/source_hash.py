"""Fingerprint of the operator's native sources (``ops/csrc``).

``setup.py`` compiles it into ``mmpsla._ext`` (``_ext.source_hash()``); at import,
:mod:`mmpsla.ops.psla_op` recomputes it from the checkout's sources, so an extension built
from older sources (a *stale* build) is detected instead of silently running old kernels.
This module needs the standard library only (``setup.py`` loads it by path).
"""

import hashlib
import os
import os.path as osp

__all__ = ['source_hash']


def source_hash(csrc_dir: str) -> str:
    """SHA-256 (first 16 hex digits) over the relative paths and contents of every file
    under ``csrc_dir``, in sorted path order."""
    paths = []
    for root, dirs, files in os.walk(csrc_dir):
        dirs[:] = sorted(d for d in dirs if d != '__pycache__')
        paths += [osp.join(root, f) for f in files]
    digest = hashlib.sha256()
    for path in sorted(paths, key=lambda p: osp.relpath(p, csrc_dir).replace(os.sep, '/')):
        digest.update(osp.relpath(path, csrc_dir).replace(os.sep, '/').encode() + b'\0')
        with open(path, 'rb') as f:
            digest.update(f.read() + b'\0')
    return digest.hexdigest()[:16]

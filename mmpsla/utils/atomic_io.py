"""Write files so that a reader never sees half of one, even if the writer is killed.

Every helper writes into a temporary file *in the destination's folder* (so the final
``os.replace`` is a rename within one file system, which POSIX makes atomic), flushes and
``fsync``\\ s it, renames it over the destination and ``fsync``\\ s the folder so the rename
itself survives a power loss. A process killed at any point leaves either the old file or
the new one, plus at worst a stray ``.<name>.tmp-<pid>`` file that the next write ignores.
"""

from __future__ import annotations

import contextlib
import json
import os
import os.path as osp
from typing import IO, Any, Iterator


def fsync_dir(path: str) -> None:
    """``fsync`` the folder ``path`` so a rename inside it is durable (no-op where unsupported)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def temp_path_for(path: str) -> str:
    """The temporary file :func:`atomic_write` uses for ``path`` (same folder, hidden)."""
    folder, name = osp.split(osp.abspath(path))
    return osp.join(folder, f'.{name}.tmp-{os.getpid()}')


def commit_file(tmp_path: str, path: str) -> None:
    """``fsync`` the finished file ``tmp_path``, rename it to ``path`` and sync the folder.

    Args:
        tmp_path: A complete file in the same folder as ``path``.
        path: The destination; replaced atomically if it exists.
    """
    with open(tmp_path, 'rb') as f:
        os.fsync(f.fileno())
    os.replace(tmp_path, path)
    fsync_dir(osp.dirname(osp.abspath(path)))


@contextlib.contextmanager
def atomic_write(path: str, mode: str = 'w', **open_kwargs) -> Iterator[IO]:
    """Open a temporary file for writing; on success it atomically becomes ``path``.

    If the body raises, the temporary file is removed and ``path`` is left untouched.

    Args:
        path: The destination file; its folder is created if needed.
        mode: ``'w'`` (text) or ``'wb'`` (bytes).
        **open_kwargs: Passed to :func:`open` (e.g. ``encoding``).

    Yields:
        The open temporary file.
    """
    if mode not in ('w', 'wb'):
        raise ValueError(f"atomic_write: mode must be 'w' or 'wb', got {mode!r}")
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    tmp = temp_path_for(path)
    try:
        with open(tmp, mode, **open_kwargs) as f:
            yield f
            f.flush()
        commit_file(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.remove(tmp)
        raise


def atomic_write_text(path: str, text: str) -> None:
    """Write ``text`` to ``path`` atomically (see :func:`atomic_write`)."""
    with atomic_write(path, 'w', encoding='utf-8') as f:
        f.write(text)


def atomic_dump_json(obj: Any, path: str, **json_kwargs) -> None:
    """``json.dump(obj)`` into ``path`` atomically (see :func:`atomic_write`)."""
    with atomic_write(path, 'w', encoding='utf-8') as f:
        json.dump(obj, f, **json_kwargs)

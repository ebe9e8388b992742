"""Speed and size measurements shared by ``tools/benchmark.py`` and ``tools/demo.py``."""

import time
from typing import Dict, Iterable, Optional

import torch


def count_parameters(model: torch.nn.Module, trainable_only: bool = False) -> int:
    """Number of (trainable) parameters of ``model``."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)


def measure_fps(
    model: torch.nn.Module,
    dataloader: Iterable,
    warmup: int = 10,
    max_frames: Optional[int] = None,
) -> Dict[str, float]:
    """Frames per second of ``model.test_step`` over the frames of a test dataloader.

    Data loading is not timed; the first ``warmup`` frames are run but not counted. Each
    timed step is classified by whether it ran the full network N_f (``model.backbone``
    called: a key frame, or the first frame of a segment with its key frame attached) or
    not (a non-key frame: N_l and the light modules, or a key frame whose cached F_t is
    reused).

    Args:
        model (nn.Module): A video detector in eval mode.
        dataloader (Iterable): Test dataloader, batch size 1, frames in order.
        warmup (int): Untimed leading steps. Defaults to 10.
        max_frames (int, optional): Stop after this many timed frames.

    Returns:
        dict: ``fps`` (all timed frames), ``key_fps`` / ``nonkey_fps`` (steps with /
        without N_f; 0 when there are none), ``frames``, ``key_frames``, ``nonkey_frames``,
        ``seconds``.
    """
    calls = {'n': 0}

    def _count(module, args):
        calls['n'] += 1

    backbone = getattr(model, 'backbone', None)
    handle = backbone.register_forward_pre_hook(_count) if backbone is not None else None
    times = {'key': 0.0, 'nonkey': 0.0}
    counts = {'key': 0, 'nonkey': 0}
    try:
        with torch.no_grad():
            for step, data in enumerate(dataloader):
                calls['n'] = 0
                start = time.perf_counter()
                model.test_step(data)
                elapsed = time.perf_counter() - start
                if step < warmup:
                    continue
                kind = 'key' if calls['n'] > 0 or backbone is None else 'nonkey'
                times[kind] += elapsed
                counts[kind] += 1
                if max_frames is not None and counts['key'] + counts['nonkey'] >= max_frames:
                    break
    finally:
        if handle is not None:
            handle.remove()
    frames = counts['key'] + counts['nonkey']
    seconds = times['key'] + times['nonkey']
    return {
        'fps': frames / seconds if seconds > 0 else 0.0,
        'key_fps': counts['key'] / times['key'] if times['key'] > 0 else 0.0,
        'nonkey_fps': counts['nonkey'] / times['nonkey'] if times['nonkey'] > 0 else 0.0,
        'frames': frames,
        'key_frames': counts['key'],
        'nonkey_frames': counts['nonkey'],
        'seconds': seconds,
    }

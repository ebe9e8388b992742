"""Speed and size measurements shared by ``tools/benchmark.py`` and ``tools/demo.py``."""

import copy
import time
from typing import Dict, Iterable, Mapping, Optional, Union

import torch


def count_parameters(model: torch.nn.Module, trainable_only: bool = False) -> int:
    """Number of (trainable) parameters of ``model``."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)


class _StepTimer:
    """Times ``test_step`` calls of one model, split by whether N_f (``backbone``) ran."""

    def __init__(self, model: torch.nn.Module) -> None:
        self.model = model
        self.calls = 0
        self.times = {'key': 0.0, 'nonkey': 0.0}
        self.counts = {'key': 0, 'nonkey': 0}
        backbone = getattr(model, 'backbone', None)
        self._has_backbone = backbone is not None
        self._handle = (
            backbone.register_forward_pre_hook(self._count) if self._has_backbone else None
        )

    def _count(self, module, args) -> None:
        self.calls += 1

    def step(self, data, record: bool) -> None:
        self.calls = 0
        start = time.perf_counter()
        self.model.test_step(data)
        elapsed = time.perf_counter() - start
        if record:
            kind = 'key' if self.calls > 0 or not self._has_backbone else 'nonkey'
            self.times[kind] += elapsed
            self.counts[kind] += 1

    def result(self) -> Dict[str, float]:
        if self._handle is not None:
            self._handle.remove()
        frames = self.counts['key'] + self.counts['nonkey']
        seconds = self.times['key'] + self.times['nonkey']

        def rate(n, s):
            return n / s if s > 0 else 0.0

        return {
            'fps': rate(frames, seconds),
            'key_fps': rate(self.counts['key'], self.times['key']),
            'nonkey_fps': rate(self.counts['nonkey'], self.times['nonkey']),
            'frames': frames,
            'key_frames': self.counts['key'],
            'nonkey_frames': self.counts['nonkey'],
            'seconds': seconds,
        }


def measure_fps(
    model: Union[torch.nn.Module, Mapping[str, torch.nn.Module]],
    dataloader: Iterable,
    warmup: int = 10,
    max_frames: Optional[int] = None,
) -> Dict:
    """Frames per second of ``model.test_step`` over the frames of a test dataloader.

    Data loading is not timed; the first ``warmup`` frames are run but not counted. Each
    timed step is classified by whether it ran the full network N_f (``model.backbone``
    called: a key frame, or the first frame of a segment with its key frame attached) or
    not (a non-key frame: N_l and the light modules, or a key frame whose cached F_t is
    reused). Several models (a dict) are timed side by side: every frame goes through each
    model in turn, so a change in the machine's load affects them alike.

    Args:
        model (nn.Module | dict[str, nn.Module]): Video detector(s) in eval mode.
        dataloader (Iterable): Test dataloader, batch size 1, frames in order.
        warmup (int): Untimed leading steps. Defaults to 10.
        max_frames (int, optional): Stop after this many timed frames.

    Returns:
        dict: ``fps`` (all timed frames), ``key_fps`` / ``nonkey_fps`` (steps with /
        without N_f; 0 when there are none), ``frames``, ``key_frames``, ``nonkey_frames``,
        ``seconds``; for a dict of models, one such dict per name.
    """
    models = model if isinstance(model, Mapping) else {'model': model}
    timers = {name: _StepTimer(m) for name, m in models.items()}
    try:
        with torch.no_grad():
            for step, data in enumerate(dataloader):
                for timer in timers.values():
                    batch = copy.deepcopy(data) if len(timers) > 1 else data
                    timer.step(batch, record=step >= warmup)
                if max_frames is not None and step - warmup + 1 >= max_frames:
                    break
    finally:
        results = {name: timer.result() for name, timer in timers.items()}
    return results if isinstance(model, Mapping) else results['model']

"""End-to-end speed of the four methods side by side, through ``mmpsla.apis.inference_vid``.

    python benchmarks/bench_e2e.py                    # R101, R-FCN head, 600x1000, 22 frames
    python benchmarks/bench_e2e.py --frames 32 --threads 2 --size 600 1000

Every model is built from its ImageNet VID config with random weights (no checkpoint, no
download), and the same random video (uint8 frames of ``--size``) runs through
``inference_vid`` frame by frame for each method, in one process, one method after the
other (run it on a quiet machine: a load change between methods moves the ratios). Each
frame's step (one ``inference_vid`` call: pipeline + model) is timed; a step is a *key*
step when the detector's N_f (``backbone``, or DFF's / FGFA's ``detector backbone``) ran
during it, a *non-key* step otherwise. The first ``--warmup`` frames are not counted; the
defaults (22 frames, 2 warm-up) count frames 2-21, which hold the key frames 10 and 20 of
DFF / PSLA (l = 10): the key share of a long video, so no missing key frame flatters the
fps. Printed per method: mean key / non-key step time, the fraction of key steps, fps over
all counted frames, and the ratios the paper's Table 1 is about (PSLA / frame baseline,
PSLA / DFF, PSLA / FGFA).
"""

import argparse
import os.path as osp
import sys
import time

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

METHODS = {
    'frame baseline': 'configs/vid/frame_baseline_r101_dc5.py',
    'DFF': 'configs/vid/dff/dff_rfcn_r101-dc5_8xb1-7e_imagenetvid.py',
    'FGFA': 'configs/vid/fgfa/fgfa_rfcn_r101-dc5_8xb1-7e_imagenetvid.py',
    'PSLA (c)': 'configs/vid/psla/psla_rfcn_r101-dc5_8xb1-120k_imagenetvid.py',
}


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='end-to-end fps of the four VID methods')
    parser.add_argument('--frames', type=int, default=22, help='frames of the random video')
    parser.add_argument('--warmup', type=int, default=2, help='first frames not counted')
    parser.add_argument('--size', type=int, nargs=2, default=(600, 1000), metavar=('H', 'W'))
    parser.add_argument('--threads', type=int, default=None, help='torch threads')
    parser.add_argument(
        '--methods', nargs='+', default=list(METHODS), choices=list(METHODS), metavar='M'
    )
    parser.add_argument('--seed', type=int, default=0)
    return parser.parse_args(argv)


def _backbones(model):
    """The modules whose forward means "N_f ran" (PSLA/baseline: backbone; DFF/FGFA too)."""
    mods = [getattr(model, 'backbone', None)]
    detector = getattr(model, 'detector', None)
    if detector is not None:
        mods.append(getattr(detector, 'backbone', None))
    return [m for m in mods if m is not None]


def time_method(config: str, frames, warmup: int) -> dict:
    """Step times of one method over ``frames`` (list of HxWx3 uint8 arrays), fed one by one
    to ``inference_vid`` with frame ids 0, 1, 2, ... (the streaming schedule)."""
    import torch

    from mmpsla.apis import inference_vid, init_model

    model = init_model(osp.join(ROOT, config))
    calls = [0]
    handles = [
        m.register_forward_pre_hook(lambda *_: calls.__setitem__(0, calls[0] + 1))
        for m in _backbones(model)
    ]
    key, nonkey = [], []
    with torch.no_grad():
        for index, frame in enumerate(frames):
            calls[0] = 0
            start = time.perf_counter()
            inference_vid(model, frame, frame_id=index)
            step = time.perf_counter() - start
            if index >= warmup:
                (key if calls[0] else nonkey).append(step)
    for handle in handles:
        handle.remove()
    total = sum(key) + sum(nonkey)
    return {
        'key': sum(key) / len(key) if key else float('nan'),
        'nonkey': sum(nonkey) / len(nonkey) if nonkey else float('nan'),
        'key_share': len(key) / max(len(key) + len(nonkey), 1),
        'fps': (len(key) + len(nonkey)) / total if total else float('nan'),
    }


def main(argv=None):
    args = parse_args(argv)
    import numpy as np
    import torch
    from mmengine.logging import MMLogger

    # no per-weight init report: init_weights logs to the current MMLogger
    MMLogger.get_instance('bench_e2e', log_level='WARNING')

    if args.threads:
        torch.set_num_threads(args.threads)
    rng = np.random.default_rng(args.seed)
    h, w = args.size
    frames = [rng.integers(0, 256, (h, w, 3), dtype=np.uint8) for _ in range(args.frames)]
    stats = {}
    for name in args.methods:
        stats[name] = time_method(METHODS[name], frames, args.warmup)
        s = stats[name]
        print(
            f'{name:<15s} key step {s["key"]:7.3f} s  non-key step {s["nonkey"]:7.3f} s  '
            f'key share {s["key_share"]:.2f}  fps {s["fps"]:.3f}',
            flush=True,
        )
    print(f'\n{args.frames} frames of {h}x{w}, {torch.get_num_threads()} threads')
    print('| method | key step (s) | non-key step (s) | fps | fps / frame baseline |')
    print('|---|---|---|---|---|')
    base = stats.get('frame baseline', {}).get('fps')
    for name, s in stats.items():
        ratio = f'{s["fps"] / base:.2f}x' if base else 'n/a'
        nonkey = f'{s["nonkey"]:.3f}' if s['nonkey'] == s['nonkey'] else 'n/a'
        print(f'| {name} | {s["key"]:.3f} | {nonkey} | {s["fps"]:.3f} | {ratio} |')
    if 'PSLA (c)' in stats:
        psla = stats['PSLA (c)']['fps']
        for other in ('frame baseline', 'DFF', 'FGFA'):
            if other in stats:
                print(f'PSLA (c) / {other}: {psla / stats[other]["fps"]:.2f}x')
    return stats


if __name__ == '__main__':
    main()

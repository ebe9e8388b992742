"""RoIAlign on the CPU: mmpsla's compiled kernel vs mmcv's, side by side in one run.

    python benchmarks/bench_roi_align.py
    python benchmarks/bench_roi_align.py --threads 1 2 --repeats 5

Two sizes: the toy head's (30 RoIs of a 128-channel 8 x 12 map: a 192 x 128 frame at stride
16, RoIs of 16-160 px) and ResNet-101 DC5's at 600 x 1000 (300 RoIs of a 1024-channel 38 x 63
map, RoIs of 16-500 px), 7 x 7 bins, adaptive sampling, aligned, float32; forward, and
forward + backward. Each timing is the median of ``--repeats`` rounds, the two kernels
alternating within a round (a change in the machine's load affects both alike); printed
with the ratio mmcv / mmpsla and the largest difference of their outputs.
"""

import argparse
import os.path as osp
import statistics
import sys
import time

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

#: name: (channels, map height, map width, RoIs, image height, image width, rounds' calls)
SIZES = {
    'toy head (C 128, 8x12, 30 RoIs)': (128, 8, 12, 30, 128, 192, 200),
    'R101 DC5 600x1000 (C 1024, 38x63, 300 RoIs)': (1024, 38, 63, 300, 600, 1000, 1),
}


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--threads', type=int, nargs='+', default=[1, 2])
    parser.add_argument('--repeats', type=int, default=5, help='rounds; the median is kept')
    parser.add_argument('--sizes', nargs='+', default=list(SIZES), choices=list(SIZES))
    args = parser.parse_args(argv)
    if args.repeats < 1 or min(args.threads) < 1:
        raise SystemExit('--repeats and --threads must be >= 1')
    return args


def make_inputs(channels, h, w, num_rois, img_h, img_w, seed=0):
    """A random map and RoIs of 16 px up to half the image, inside it."""
    import torch

    g = torch.Generator().manual_seed(seed)
    x = torch.randn(1, channels, h, w, generator=g)
    size = 16 + torch.rand(num_rois, 2, generator=g) * (torch.tensor([img_w, img_h]) / 2 - 16)
    start = torch.rand(num_rois, 2, generator=g) * (torch.tensor([img_w, img_h]) - size)
    rois = torch.cat([torch.zeros(num_rois, 1), start, start + size], 1)
    return x, rois


def _time(fn, calls):
    start = time.perf_counter()
    for _ in range(calls):
        fn()
    return (time.perf_counter() - start) / calls


def _mmcv(x, rois):
    from mmcv.ops import roi_align as mmcv_roi_align

    return mmcv_roi_align(x, rois, (7, 7), 1 / 16, 0, 'avg', True)


def _mmpsla(x, rois):
    from mmpsla.ops.roi_align_op import roi_align

    return roi_align(x, rois, (7, 7), 1 / 16, 0, True)


def _time_kernels(x, rois, calls: int, repeats: int) -> dict:
    """{(kernel, 'fwd' | 'f+b'): [seconds per call, one per round]}, the kernels alternating
    within each round."""
    import torch

    xg = x.clone().requires_grad_()
    times = {(k, p): [] for k in ('mmcv', 'mmpsla') for p in ('fwd', 'f+b')}
    for _ in range(repeats):
        for kernel, fn in (('mmcv', _mmcv), ('mmpsla', _mmpsla)):
            with torch.no_grad():
                times[(kernel, 'fwd')].append(_time(lambda f=fn: f(x, rois), calls))
            times[(kernel, 'f+b')].append(_time(lambda f=fn: f(xg, rois).sum().backward(), calls))
    return times


def run(args) -> list:
    import torch

    rows = []
    for threads in args.threads:
        torch.set_num_threads(threads)
        for name in args.sizes:
            channels, h, w, num_rois, img_h, img_w, calls = SIZES[name]
            x, rois = make_inputs(channels, h, w, num_rois, img_h, img_w)
            times = _time_kernels(x, rois, calls, args.repeats)
            diff = (_mmcv(x, rois) - _mmpsla(x, rois)).abs().max().item()
            med = {k: statistics.median(v) for k, v in times.items()}
            for part in ('fwd', 'f+b'):
                rows.append(
                    dict(
                        size=name,
                        threads=threads,
                        part=part,
                        mmcv_ms=1e3 * med[('mmcv', part)],
                        mmpsla_ms=1e3 * med[('mmpsla', part)],
                        ratio=med[('mmcv', part)] / med[('mmpsla', part)],
                        max_diff=diff,
                    )
                )
    return rows


def main(argv=None):
    args = parse_args(argv)
    rows = run(args)
    print('| size | threads | pass | mmcv ms | mmpsla ms | mmcv / mmpsla | max |diff| |')
    print('|---|---|---|---|---|---|---|')
    for r in rows:
        print(
            f"| {r['size']} | {r['threads']} | {r['part']} | {r['mmcv_ms']:.3f} | "
            f"{r['mmpsla_ms']:.3f} | {r['ratio']:.1f}x | {r['max_diff']:.1e} |"
        )
    return rows


if __name__ == '__main__':
    main()

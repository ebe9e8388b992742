"""NMS on the CPU: mmpsla's compiled kernel vs mmcv's, side by side in one run.

    python benchmarks/bench_nms.py
    python benchmarks/bench_nms.py --repeats 7

Three sizes, each as mmdet's heads call it (``mmcv.ops.batched_nms`` with the op as its
``nms`` type): the toy RPN at test time (300 boxes, one class, IoU 0.7), the toy RPN's
training proposals (1000 boxes) and ResNet-101's RPN at test time (6000 boxes, a 600 x 1000
frame), plus the toy box head's per-class NMS (30 RoIs x 4 classes, IoU 0.5). Boxes are
random in the frame (16 px up to half its size) with random scores, float32. Each timing is
the median of ``--repeats`` rounds, the two kernels alternating within a round; printed with
the ratio mmcv / mmpsla and whether both kept the same boxes in the same order.
"""

import argparse
import os.path as osp
import statistics
import sys
import time

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

#: name: (boxes, classes, IoU threshold, image height, image width, calls per round)
SIZES = {
    'toy RPN test (300 boxes)': (300, 1, 0.7, 128, 192, 200),
    'toy box head (30 RoIs x 4 classes)': (120, 4, 0.5, 128, 192, 200),
    'toy RPN train (1000 boxes)': (1000, 1, 0.7, 128, 192, 50),
    'R101 RPN test (6000 boxes)': (6000, 1, 0.7, 600, 1000, 3),
}


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--repeats', type=int, default=5, help='rounds; the median is kept')
    parser.add_argument('--sizes', nargs='+', default=list(SIZES), choices=list(SIZES))
    args = parser.parse_args(argv)
    if args.repeats < 1:
        raise SystemExit('--repeats must be >= 1')
    return args


def make_inputs(num_boxes, num_classes, img_h, img_w, seed=0):
    """Random boxes of 16 px up to half the image inside it, scores and class labels."""
    import torch

    g = torch.Generator().manual_seed(seed)
    size = 16 + torch.rand(num_boxes, 2, generator=g) * (torch.tensor([img_w, img_h]) / 2 - 16)
    start = torch.rand(num_boxes, 2, generator=g) * (torch.tensor([img_w, img_h]) - size)
    boxes = torch.cat([start, start + size], 1)
    scores = torch.rand(num_boxes, generator=g)
    labels = torch.randint(num_classes, (num_boxes,), generator=g)
    return boxes, scores, labels


def _time(fn, calls):
    start = time.perf_counter()
    for _ in range(calls):
        fn()
    return (time.perf_counter() - start) / calls


def run(args) -> list:
    import torch
    from mmcv.ops import batched_nms

    from mmpsla.ops import nms

    torch.set_num_threads(1)  # both kernels are single-threaded
    rows = []
    for name in args.sizes:
        num_boxes, num_classes, iou, img_h, img_w, calls = SIZES[name]
        boxes, scores, labels = make_inputs(num_boxes, num_classes, img_h, img_w)
        cfgs = {
            'mmcv': dict(type='nms', iou_threshold=iou),
            'mmpsla': dict(type=nms, iou_threshold=iou),
        }
        times = {k: [] for k in cfgs}
        for _ in range(args.repeats):
            for kernel, cfg in cfgs.items():
                args_ = (boxes, scores, labels, cfg)
                times[kernel].append(_time(lambda a=args_: batched_nms(*a), calls))
        keeps = [batched_nms(boxes, scores, labels, cfg)[1] for cfg in cfgs.values()]
        med = {k: statistics.median(v) for k, v in times.items()}
        rows.append(
            dict(
                size=name,
                kept=len(keeps[0]),
                mmcv_ms=1e3 * med['mmcv'],
                mmpsla_ms=1e3 * med['mmpsla'],
                ratio=med['mmcv'] / med['mmpsla'],
                same=bool(torch.equal(keeps[0], keeps[1])),
            )
        )
    return rows


def main(argv=None):
    args = parse_args(argv)
    rows = run(args)
    print('| size | kept | mmcv ms | mmpsla ms | mmcv / mmpsla | same boxes |')
    print('|---|---|---|---|---|---|')
    for r in rows:
        print(
            f"| {r['size']} | {r['kept']} | {r['mmcv_ms']:.3f} | {r['mmpsla_ms']:.3f} | "
            f"{r['ratio']:.1f}x | {'yes' if r['same'] else 'NO'} |"
        )
    return rows


if __name__ == '__main__':
    main()

"""Generate the toy video-segmentation set in the CityScapes sequence layout.

Example::

    python tools/make_toy_seg.py --out data/toy_seg --seed 0

writes ``leftImg8bit_sequence/{train,val}/``, ``gtFine/{train,val}/`` (labelTrainIds) and
``toy_seg_meta.json`` under ``--out`` and prints the statistics. Running it again with the
same arguments is a no-op; different arguments need ``--overwrite``.
"""

import argparse
import sys
import time
from pathlib import Path


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Generate the mmpsla toy segmentation set')
    parser.add_argument('--out', default='data/toy_seg', help='output directory')
    parser.add_argument('--seed', type=int, default=0, help='random seed')
    parser.add_argument('--train-snippets', type=int, default=64, help='train snippets')
    parser.add_argument('--val-snippets', type=int, default=24, help='val snippets')
    parser.add_argument(
        '--degraded-fraction', type=float, default=0.5, help='share of degraded annotated frames'
    )
    parser.add_argument('--overwrite', action='store_true', help='replace an existing set')
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from mmpsla.datasets.toy_seg import TOY_SEG_CLASSES, make_toy_seg

    start = time.perf_counter()
    stats = make_toy_seg(
        args.out,
        seed=args.seed,
        num_train_snippets=args.train_snippets,
        num_val_snippets=args.val_snippets,
        degraded_fraction=args.degraded_fraction,
        overwrite=args.overwrite,
    )
    print(f'toy segmentation set in {args.out} ({time.perf_counter() - start:.1f} s)')
    for split, stat in stats.items():
        total = sum(stat['pixels_per_class'])
        shares = ', '.join(
            f'{name} {100 * n / total:.1f}%'
            for name, n in zip(TOY_SEG_CLASSES, stat['pixels_per_class'])
        )
        print(
            f'{split}: {stat["snippets"]} snippets, {stat["frames"]} frames, '
            f'{stat["degraded_annotated"]} degraded annotated frames; pixels: {shares}'
        )
    return 0


if __name__ == '__main__':
    sys.exit(main())

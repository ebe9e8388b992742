"""Generate the procedural toy VID dataset (the embedded default of mmpsla).

Example::

    python tools/make_toy_vid.py --out data/toy_vid --seed 0

writes ``data/toy_vid/annotations/{train,val}.json`` (CocoVID) and the JPEG frames under
``data/toy_vid/Data/``, then prints the statistics of both splits. Running it again with
the same arguments is a no-op; different arguments need ``--overwrite``.
"""

import argparse
import re
import sys
import time
from pathlib import Path


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description='Generate the mmpsla toy VID dataset')
    parser.add_argument('--out', default='data/toy_vid', help='output directory')
    parser.add_argument('--seed', type=int, default=0, help='random seed')
    parser.add_argument('--train-videos', type=int, default=48, help='videos in train')
    parser.add_argument('--val-videos', type=int, default=12, help='videos in val')
    parser.add_argument('--frames', type=int, default=25, help='frames per video')
    parser.add_argument('--width', type=int, default=192, help='frame width')
    parser.add_argument('--height', type=int, default=128, help='frame height')
    parser.add_argument(
        '--degraded-fraction', type=float, default=0.3, help='share of degraded frames'
    )
    parser.add_argument('--overwrite', action='store_true', help='replace an existing dataset')
    parser.add_argument('--no-progress', action='store_true', help='hide progress bars')
    return parser


def parse_args(argv=None) -> argparse.Namespace:
    return build_parser().parse_args(argv)


# make_toy_vid's argument -> this tool's option, so an error names what the user typed
OPTION_OF = {
    'out_dir': '--out',
    'num_train_videos': '--train-videos',
    'num_val_videos': '--val-videos',
    'num_frames': '--frames',
    'width': '--width',
    'height': '--height',
    'degraded_fraction': '--degraded-fraction',
}


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    # runs from a checkout without installing: the repository root becomes importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from mmpsla.datasets import format_statistics, make_toy_vid

    start = time.perf_counter()
    try:
        stats = make_toy_vid(
            args.out,
            seed=args.seed,
            num_train_videos=args.train_videos,
            num_val_videos=args.val_videos,
            num_frames=args.frames,
            width=args.width,
            height=args.height,
            degraded_fraction=args.degraded_fraction,
            overwrite=args.overwrite,
            progress=not args.no_progress,
        )
    except (ValueError, NotADirectoryError) as err:
        message = str(err)
        for name, option in OPTION_OF.items():
            message = re.sub(rf'\b{name}\b', option, message)
        parser.error(message)  # exits with status 2 and the usage line
    print(f'toy VID dataset in {args.out} ({time.perf_counter() - start:.1f} s)')
    print(format_statistics(stats))
    return 0


if __name__ == '__main__':
    sys.exit(main())

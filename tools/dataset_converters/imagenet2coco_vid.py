"""Convert ImageNet VID (ILSVRC2015) annotations to CocoVID JSON.

Example::

    python tools/dataset_converters/imagenet2coco_vid.py -i data/ILSVRC -o data/ILSVRC/annotations

writes ``imagenet_vid_train.json`` and ``imagenet_vid_val.json`` (``file_name`` relative to
``data/ILSVRC/Data/VID``). Pass FGFA's ``VID_train_15frames.txt`` with ``--train-frame-list``
to reproduce its training subset exactly; otherwise 15 evenly spaced frames per video are
marked ``is_vid_train_frame``.
"""

import argparse
import os.path as osp
import sys
from pathlib import Path


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='ImageNet VID to CocoVID JSON')
    parser.add_argument('-i', '--input', required=True, help='ILSVRC2015 root directory')
    parser.add_argument('-o', '--output', required=True, help='output directory for the JSON')
    parser.add_argument('--splits', nargs='+', default=['train', 'val'], choices=['train', 'val'])
    parser.add_argument('--train-frame-list', help="FGFA's VID_train_15frames.txt (optional)")
    parser.add_argument('--no-check-images', action='store_true', help='skip JPEG checks')
    parser.add_argument('--no-progress', action='store_true', help='hide progress bars')
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    # runs from a checkout without installing: the repository root becomes importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    from mmpsla.datasets.converters import convert_vid
    from mmpsla.datasets.converters.ilsvrc_common import dump_json

    for split in args.splits:
        coco_vid = convert_vid(
            args.input,
            split,
            train_frame_list=args.train_frame_list,
            check_images=not args.no_check_images,
            progress=not args.no_progress,
        )
        dump_json(coco_vid, osp.join(args.output, f'imagenet_vid_{split}.json'))
    return 0


if __name__ == '__main__':
    sys.exit(main())

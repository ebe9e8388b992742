"""Convert ImageNet DET train (30 VID classes only) to CocoVID JSON.

Example::

    python tools/dataset_converters/imagenet2coco_det.py -i data/ILSVRC -o data/ILSVRC/annotations

writes ``imagenet_det_30cls.json`` (one one-frame video per image, ``file_name`` relative
to ``data/ILSVRC/Data/DET``). ``--image-list`` takes FGFA's ``DET_train_30classes.txt``;
otherwise the positive entries of ``ImageSets/DET/train_*.txt`` are scanned.
"""

import argparse
import os.path as osp
import sys
from pathlib import Path


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='ImageNet DET (VID classes) to CocoVID JSON')
    parser.add_argument('-i', '--input', required=True, help='ILSVRC2015 root directory')
    parser.add_argument('-o', '--output', required=True, help='output directory for the JSON')
    parser.add_argument('--image-list', help="e.g. FGFA's DET_train_30classes.txt (optional)")
    parser.add_argument(
        '--keep-empty', action='store_true', help='keep images without a VID-class object'
    )
    parser.add_argument('--no-check-images', action='store_true', help='skip JPEG checks')
    parser.add_argument('--no-progress', action='store_true', help='hide progress bars')
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    # runs from a checkout without installing: the repository root becomes importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    from mmpsla.datasets.converters import convert_det
    from mmpsla.datasets.converters.ilsvrc_common import dump_json

    coco_vid = convert_det(
        args.input,
        image_list=args.image_list,
        check_images=not args.no_check_images,
        keep_empty=args.keep_empty,
        progress=not args.no_progress,
    )
    dump_json(coco_vid, osp.join(args.output, 'imagenet_det_30cls.json'))
    return 0


if __name__ == '__main__':
    sys.exit(main())

"""Export (a slice of) a CocoVID set as the simple layout's CSV of boxes.

Rows name each box's video folder and frame number, so the CSV pairs with the set's own
frame folders; ``--copy-frames`` also copies the kept videos' folders into a new frames
folder, which gives a self-contained custom dataset (the README's worked example)::

    python tools/dataset_converters/cocovid2custom.py data/toy_vid/annotations/train.json \
        --out data/custom_demo/train.csv --videos toy_train_0000 toy_train_0001 \
        --classes disc square --copy-frames data/toy_vid/Data data/custom_demo/frames
"""

import argparse
import json
import os.path as osp
import shutil
import sys
from pathlib import Path


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='CocoVID JSON to the simple CSV of boxes')
    parser.add_argument('ann_file', help='the CocoVID JSON')
    parser.add_argument('--out', required=True, help='the CSV to write')
    parser.add_argument('--videos', nargs='+', help='keep only these video folders')
    parser.add_argument('--classes', nargs='+', help='keep only the boxes of these classes')
    parser.add_argument(
        '--copy-frames',
        nargs=2,
        metavar=('IMG_ROOT', 'DEST'),
        help="copy the kept videos' frame folders from IMG_ROOT (the JSON's file_name root) "
        'into DEST/<video>',
    )
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    from mmpsla.datasets.converters import export_custom_csv

    with open(args.ann_file) as f:
        coco_vid = json.load(f)
    rows = export_custom_csv(coco_vid, args.out, args.videos, args.classes)
    print(f'{args.out}: {rows} boxes')
    if args.copy_frames:
        src_root, dest = args.copy_frames
        folders = sorted({osp.dirname(img['file_name']) for img in coco_vid['images']})
        for folder in folders:
            name = osp.basename(folder)
            if args.videos is None or name in args.videos:
                shutil.copytree(
                    osp.join(src_root, folder), osp.join(dest, name), dirs_exist_ok=True
                )
        print(f'{dest}: frame folders copied')
    return 0


if __name__ == '__main__':
    sys.exit(main())

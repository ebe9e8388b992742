"""Convert custom videos (a folder of frames per video + a CSV of boxes) to CocoVID JSON.

Example::

    python tools/dataset_converters/custom2coco_vid.py --frames data/my_vid/frames \
        --ann data/my_vid/train.csv --out data/my_vid/annotations/train.json \
        --classes car person bicycle

The CSV has the header ``video,frame,track_id,class,xmin,ymin,xmax,ymax`` (pixels, box
edges); see ``mmpsla/datasets/converters/custom_vid.py`` and the README's "Custom
datasets" section. Run it once per split (one CSV each) with the same ``--classes``.
"""

import argparse
import sys
from pathlib import Path


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Custom per-video frames + CSV to CocoVID JSON')
    parser.add_argument('--frames', required=True, help='folder with one frame folder per video')
    parser.add_argument('--ann', required=True, help='the split CSV (one row per box)')
    parser.add_argument('--out', required=True, help='the CocoVID JSON to write')
    parser.add_argument(
        '--classes', nargs='+', help='class names in label order (default: the CSV names, sorted)'
    )
    parser.add_argument(
        '--min-frames', type=int, default=2, help='skip shorter videos (default: 2)'
    )
    parser.add_argument(
        '--extract-videos',
        action='store_true',
        help='first turn each video file FRAMES/<name>.mp4 (.avi .mov .mkv) into frames '
        'FRAMES/<name>/000000.jpg, ... (frame numbers from 0)',
    )
    parser.add_argument('--no-progress', action='store_true', help='hide progress bars')
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    # runs from a checkout without installing: the repository root becomes importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    from mmpsla.datasets.cocovid_utils import vid_statistics
    from mmpsla.datasets.converters import convert_custom_vid, extract_videos
    from mmpsla.datasets.converters.ilsvrc_common import dump_json

    if args.extract_videos:
        print(f'extracted the frames of {extract_videos(args.frames)}')
    coco_vid = convert_custom_vid(
        args.frames, args.ann, args.classes, args.min_frames, progress=not args.no_progress
    )
    dump_json(coco_vid, args.out)
    stats = vid_statistics(coco_vid)
    print(
        f'{args.out}: {stats["videos"]} videos, {stats["frames"]} frames, {stats["boxes"]} '
        f'boxes, {stats["objects"]} tracks, classes {[c["name"] for c in coco_vid["categories"]]}'
    )
    return 0


if __name__ == '__main__':
    sys.exit(main())

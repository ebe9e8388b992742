"""Run a video detector over a video file or a frame folder and write an annotated video.

    python tools/demo_vid.py configs/toy/psla_c_toy.py CKPT INPUT --out out.mp4 \
        [--score-thr 0.5] [--key-frame-interval 10] [--mode middle|first] [--fps FPS]

INPUT is a video file (read with OpenCV) or a folder of frames (sorted by name); the
output is an MP4, a GIF (``--out`` ending with ``.gif``) or a folder of JPEGs. Frames are
streamed: each annotated frame is written as soon as it is detected (memory stays flat in
the video's length), at the input video's frame rate unless ``--fps`` is given (a frame
folder needs ``--fps`` for a video output). Any video config works (PSLA, the frame baseline,
DFF, FGFA, SELSA, mmtrack 1.x's VID configs); ``--mode`` applies to PSLA's schedule and
``--key-frame-interval`` to PSLA and DFF. ``demo/demo_vid.py`` takes mmtrack's arguments.
"""

import argparse
import os.path as osp
import sys

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='annotate a video with a video detector')
    parser.add_argument('config')
    parser.add_argument('checkpoint', help='checkpoint file ("none" for random weights)')
    parser.add_argument('input', help='video file or folder of frames')
    parser.add_argument('--out', required=True, help='output .mp4, .gif or folder')
    parser.add_argument('--score-thr', type=float, default=0.5)
    parser.add_argument('--key-frame-interval', type=int, default=None)
    parser.add_argument('--mode', choices=('middle', 'first'), default=None)
    parser.add_argument(
        '--fps', type=float, default=None, help="output frame rate (default: the input's)"
    )
    parser.add_argument('--device', default='cpu')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    from mmpsla.apis import annotate_video, init_model

    ckpt = None if args.checkpoint.lower() == 'none' else args.checkpoint
    model = init_model(args.config, ckpt, device=args.device)
    count = annotate_video(
        model,
        args.input,
        args.out,
        score_thr=args.score_thr,
        fps=args.fps,
        key_frame_interval=args.key_frame_interval,
        mode=args.mode,
        progress=True,
    )
    print(f'wrote {count} frames to {args.out}')
    return args.out


if __name__ == '__main__':
    main()

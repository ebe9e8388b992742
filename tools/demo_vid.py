"""Run a video detector over a video file or a frame folder and write an annotated video.

    python tools/demo_vid.py configs/toy/psla_c_toy.py CKPT INPUT --out out.mp4 \
        [--score-thr 0.5] [--key-frame-interval 10] [--mode middle|first]

INPUT is a video file (read with OpenCV) or a folder of frames (sorted by name); the
output is an MP4 (or a GIF when ``--out`` ends with ``.gif``). Any video config works
(PSLA, the frame baseline, DFF, FGFA); ``--mode`` applies to PSLA's schedule only and
``--key-frame-interval`` to PSLA and DFF.
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
    parser.add_argument('--out', required=True, help='output .mp4 or .gif')
    parser.add_argument('--score-thr', type=float, default=0.5)
    parser.add_argument('--key-frame-interval', type=int, default=None)
    parser.add_argument('--mode', choices=('middle', 'first'), default=None)
    parser.add_argument('--fps', type=float, default=10.0, help='output frame rate')
    parser.add_argument('--device', default='cpu')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    from tqdm import tqdm

    from mmpsla.apis import draw_detections, inference_vid, init_model, video_length, write_video

    ckpt = None if args.checkpoint.lower() == 'none' else args.checkpoint
    model = init_model(args.config, ckpt, device=args.device)
    names = (getattr(model, 'dataset_meta', None) or {}).get('classes')
    results = inference_vid(
        model, args.input, args.key_frame_interval, args.mode, return_images=True
    )
    out = []
    for img, det in tqdm(results, total=video_length(args.input), unit='frame'):
        out.append(draw_detections(img, det.pred_instances, names, args.score_thr))
    write_video(out, args.out, fps=args.fps)
    print(f'wrote {len(out)} frames to {args.out}')
    return args.out


if __name__ == '__main__':
    main()

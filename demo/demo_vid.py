"""mmtrack 1.x's ``demo/demo_vid.py``, on mmpsla: annotate a video with a video detector.

    python demo/demo_vid.py CONFIG --input VIDEO_OR_FOLDER --output out.mp4 \
        [--checkpoint CKPT] [--device cuda:0] [--show] [--score_thr 0.8] [--fps 25]

The arguments are mmtrack's. CONFIG is an mmpsla config or one of mmtrack 1.x's VID configs
(``configs/vid/{dff,fgfa,selsa,temporal_roi_align}``); CKPT an mmpsla or mmtrack 1.x
checkpoint. ``--output`` ending in ``.mp4`` writes a video, anything else a folder of JPEGs;
frames are written as they are detected (memory does not grow with the video). Frames are
fed in order with :func:`mmpsla.apis.inference_vid` (mmtrack's per-frame API: streaming,
no look-ahead), as mmtrack's demo does; ``tools/demo_vid.py`` runs the whole-video schedule.
"""

import argparse
import os.path as osp
import sys

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='mmtrack-style VID demo')
    parser.add_argument('config', help='Config file')
    parser.add_argument('--input', required=True, help='input video file or folder of frames')
    parser.add_argument('--output', help='output video file (mp4) or folder')
    parser.add_argument('--checkpoint', help='Checkpoint file')
    parser.add_argument('--device', default='cuda:0', help='Device used for inference')
    parser.add_argument('--show', action='store_true', help='whether to show visualizations')
    parser.add_argument('--score_thr', type=float, default=0.8, help='bbox score threshold')
    parser.add_argument('--fps', type=float, help='FPS of the output video')
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    from mmpsla.apis import (
        FrameSource,
        VideoWriter,
        draw_detections,
        inference_vid,
        init_model,
        video_fps,
    )
    from mmpsla.apis.frame_sources import load_frame

    if args.output is None and not args.show:
        raise SystemExit('demo_vid: give --output and/or --show')
    fps = args.fps or video_fps(args.input)
    if not fps and args.output is not None and VideoWriter.kind_of(args.output) != 'dir':
        raise SystemExit(f'demo_vid: {args.input} has no frame rate; set --fps')
    model = init_model(args.config, args.checkpoint, device=args.device)
    names = (getattr(model, 'dataset_meta', None) or {}).get('classes')
    source = FrameSource(args.input)
    writer = VideoWriter(args.output, fps or 1.0) if args.output else None
    frame_id = 0
    while source.length is None or frame_id < source.length:
        img = source.get(frame_id)
        if img is None:
            break
        img = load_frame(img)
        result = inference_vid(model, img, frame_id=frame_id)
        det = result[result.key_frames_inds[0]]
        drawn = draw_detections(img, det.pred_instances, names, args.score_thr)
        if writer is not None:
            writer.write(drawn)
        if args.show:
            import cv2

            cv2.imshow('demo_vid', drawn)
            cv2.waitKey(max(1, int(1000 / (fps or 25))))
        source.release_before(frame_id + 1)
        frame_id += 1
    if writer is not None:
        writer.close()
        print(f'wrote {frame_id} frames to {args.output}')
    return frame_id


if __name__ == '__main__':
    main()

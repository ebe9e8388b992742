"""Annotate a whole video with a video detector, streaming frame by frame to the output."""

from typing import Optional

import torch

from .frame_sources import video_fps, video_length
from .video_inference import inference_video
from .visualization import VideoWriter, draw_detections


def annotate_video(
    model: torch.nn.Module,
    frames,
    output: Optional[str],
    score_thr: float = 0.5,
    fps: Optional[float] = None,
    show: bool = False,
    key_frame_interval: Optional[int] = None,
    mode: Optional[str] = None,
    progress: bool = False,
) -> int:
    """Draw the detections of every frame and write / show each frame as it is done.

    No annotated frame is kept: each one goes to ``output`` (an MP4 or a folder of JPEGs;
    a GIF is assembled at the end) or to the screen and is dropped, so memory does not
    grow with the video's length (:func:`inference_video` reads frames lazily too).

    Args:
        model (nn.Module): From :func:`init_model`.
        frames: What :func:`inference_video` reads (video file, folder, list, iterator).
        output (str, optional): Output file or folder; None with ``show`` only.
        score_thr (float): Minimum score of a drawn box.
        fps (float, optional): Output frame rate. Defaults to the input video's.
        show (bool): Also display the frames (OpenCV window).
        key_frame_interval, mode: See :func:`inference_video`.
        progress (bool): Print a progress bar.

    Returns:
        int: Number of frames processed.

    Raises:
        ValueError: Without ``output`` and ``show``, or without a frame rate for a video
            output when the input has none (a folder of frames): pass ``fps``.
    """
    if output is None and not show:
        raise ValueError('annotate_video: give an output path (--output) or show=True')
    fps = fps or video_fps(frames)
    if output is not None and not fps and VideoWriter.kind_of(output) != 'dir':
        raise ValueError(f'annotate_video: the input {frames!r} has no frame rate; pass fps')
    writer = VideoWriter(output, fps or 1.0) if output is not None else None
    names = (getattr(model, 'dataset_meta', None) or {}).get('classes')
    results = inference_video(model, frames, key_frame_interval, mode, return_images=True)
    if progress:
        from tqdm import tqdm

        results = tqdm(results, total=video_length(frames), unit='frame')
    count = 0
    for img, det in results:
        drawn = draw_detections(img, det.pred_instances, names, score_thr)
        if writer is not None:
            writer.write(drawn)
        if show:
            import cv2

            cv2.imshow('video', drawn)
            cv2.waitKey(max(1, int(1000 / (fps or 25))))
        count += 1
    if writer is not None:
        writer.close()
    return count

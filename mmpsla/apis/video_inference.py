"""Whole-video inference: one video (:func:`inference_video`) or B videos in lockstep
(:func:`inference_videos`, mmtrack issue #141), frames read lazily from lists, arrays,
folders, video files or iterators."""

from typing import Iterator, List, Optional, Sequence

import torch
from mmdet.structures import DetDataSample

from .frame_sources import FrameSource, LazyFrames
from .inference import predict_frames
from .test_pipeline import build_test_pipeline, scheduled_pipeline


def video_schedule(model: torch.nn.Module, source: FrameSource, key_frame_interval, mode):
    """The test pipeline of one video and how many past frames it looks back at.

    Returns:
        tuple: ``(pipeline, keep)``: the config's test pipeline (schedule adjusted) and the
        number of frames before the current one that stay readable.

    Raises:
        ValueError: for arguments the model's schedule does not take.
    """
    sampler = scheduled_pipeline(model.cfg, model.test_cfg)[0]
    name = type(model).__name__
    if sampler['type'] == 'PSLAKeyFrameSchedule':
        if mode is None:
            mode = sampler.get('mode', 'middle') if source.length is not None else 'first'
        if mode not in ('middle', 'first'):
            raise ValueError(f'mode must be "middle" or "first", got {mode!r}')
        if mode == 'middle' and source.length is None:
            raise ValueError(
                'mode="middle" needs the number of frames; pass a list, a folder or a video '
                'file, or use mode="first" (streaming) for iterators'
            )
        keep = key_frame_interval or sampler.get('key_frame_interval', 10)
    else:
        if mode is not None:
            raise ValueError(f'mode applies to the PSLA key-frame schedule; {name} has none')
        if sampler['method'] != 'test_key_frame_interval':
            if key_frame_interval is not None:
                raise ValueError(f'{name} has no key frames; key_frame_interval does not apply')
            if source.length is None:
                raise ValueError(
                    f'{name} aggregates frames ahead of the current one and needs the number '
                    'of frames: pass a list, a folder or a video file, not an iterator'
                )
        # DFF's schedule looks back at its segment's first frame; FGFA / SELSA read ahead
        keep = 1
        if sampler['method'] == 'test_key_frame_interval':
            keep = key_frame_interval or sampler.get('key_frame_interval', 10)
    return build_test_pipeline(model.cfg, key_frame_interval, mode, model.test_cfg), keep


def inference_video(
    model: torch.nn.Module,
    frames,
    key_frame_interval: Optional[int] = None,
    mode: Optional[str] = None,
    return_images: bool = False,
) -> Iterator[DetDataSample]:
    """Detect objects in every frame of one video, in order (a generator).

    The config's test pipeline prepares each frame and its frame sampler marks the key /
    reference frames (``PSLAKeyFrameSchedule`` for PSLA and the frame baseline,
    ``VIDRefFrameSample`` for DFF / FGFA / SELSA; mmtrack configs' ``ref_img_sampler`` /
    ``test_cfg.key_frame_interval`` are translated into one). The model keeps its video
    state between frames; it is reset at the first frame. Frames are read lazily and
    dropped once no later frame needs them. Bad arguments raise at the call.

    Args:
        model (nn.Module): From :func:`~.inference.init_model`.
        frames: A list/tuple of HxWx3 BGR uint8 arrays or image paths, an (N, H, W, 3)
            array, a folder of frames (sorted by name), a video file (read with OpenCV), or
            an iterator of arrays/paths (length unknown: streaming).
        key_frame_interval (int, optional): l of PSLA's / DFF's schedule. Defaults to the
            config's. Methods without key frames (FGFA, SELSA) refuse it.
        mode (str, optional): PSLA's schedule: ``'middle'`` (key frame = segment middle,
            needs the video length, looks ahead up to l/2 frames) or ``'first'``
            (streaming). Defaults to the config's mode when the length is known,
            ``'first'`` otherwise. DFF follows it too when its pipeline is PSLA's.
        return_images (bool): Yield ``(image, sample)`` pairs, image the HxWx3 BGR frame.

    Yields:
        DetDataSample: Per frame, ``pred_instances`` (bboxes (n, 4) xyxy in the frame's
        pixel coordinates, scores (n,), labels (n,)) and ``frame_id``; with key frames
        also ``key_frame_id`` and ``is_key_frame``.
    """
    steps = inference_videos(model, [frames], key_frame_interval, mode, return_images)
    return (step[0] for step in steps)


def inference_videos(
    model: torch.nn.Module,
    videos: Sequence,
    key_frame_interval: Optional[int] = None,
    mode: Optional[str] = None,
    return_images: bool = False,
) -> Iterator[List]:
    """Detect objects in B videos at once, stepping them in lockstep (a generator).

    Step t runs frame t of every video that still has one through the model as one
    batch of (up to) B clips: each video is its own stream with its own key frames /
    feature cache (the model keeps one state per video), the networks run once per step
    on the frames of one size together, and each video's detections equal
    :func:`inference_video` on that video alone. A video that ends leaves the batch.

    Args:
        model (nn.Module): From :func:`~.inference.init_model`.
        videos (Sequence): B videos, each anything :func:`inference_video` takes (list of
            frames, array, folder, video file, iterator); they may differ in length and
            frame size.
        key_frame_interval, mode, return_images: as :func:`inference_video`, for every
            video (``mode`` defaults per video: ``'first'`` for iterators).

    Yields:
        list: per step, B entries in the order of ``videos``: the frame's
        ``DetDataSample`` (or ``(image, sample)`` with ``return_images``), None for a
        video that has already ended.
    """
    if isinstance(videos, (str, bytes)) or not isinstance(videos, Sequence) or not videos:
        raise ValueError(
            'videos must be a non-empty list of videos (each a list of frames, an array, a '
            f'folder, a video file or an iterator), got {type(videos).__name__}'
        )
    sources = [FrameSource(frames) for frames in videos]
    schedules = [video_schedule(model, s, key_frame_interval, mode) for s in sources]
    return _lockstep(model, sources, schedules, return_images)


def _lockstep(model, sources, schedules, return_images) -> Iterator[List]:
    """Step the videos of ``sources`` through their pipelines and ``model`` together.

    Per video, ``keep`` frames before the current one stay readable (the PSLA schedule
    looks back at its segment's key frame); older ones are released.
    """
    model.reset_video_state()
    device = next(model.parameters()).device
    images = [LazyFrames(source) for source in sources]
    running = list(range(len(sources)))
    index = 0
    while True:
        running = [b for b in running if sources[b].get(index) is not None]
        if not running:
            return
        items = []
        for b in running:
            length = sources[b].length
            images[b].length = length if length is not None else index + 1
            info = {
                'video_id': b,
                'video_length': images[b].length,
                'images': images[b],
                'key_frame_id': index,
            }
            items.append((schedules[b][0], info))
        step: List = [None] * len(sources)
        for b, result in zip(running, predict_frames(model, items)):
            current = result[result.key_frames_inds[0]]
            current = current.cpu() if device.type != 'cpu' else current
            step[b] = (images[b][index]['img'], current) if return_images else current
            images[b].release_before(index + 1 - schedules[b][1])
        yield step
        index += 1

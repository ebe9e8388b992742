"""Inference API with mmtrack 1.x's VID names and signatures.

* :func:`init_model` -- build a video detector from a config (mmpsla's or mmtrack 1.x's)
  and load a checkpoint (mmpsla's or mmtrack's).
* :func:`inference_vid` -- mmtrack's per-frame call: one frame in, its
  ``TrackDataSample`` out; frames of a video arrive in order (streaming, no look-ahead).
* :func:`inference_video` -- mmpsla's whole-video generator (a list, folder, video file or
  iterator of frames), which may look ahead (PSLA's middle key frames, FGFA's window).

Both feed frames through the config's test pipeline (:mod:`.test_pipeline`), whose frame
sampler marks the key / reference frames the model reads (the test-schedule contract), and
share :func:`predict_frame`.
"""

import copy
import os
import warnings
from typing import Iterator, Optional, Union

import numpy as np
import torch
from mmdet.registry import MODELS
from mmdet.structures import DetDataSample, TrackDataSample
from mmengine.config import Config
from mmengine.dataset import Compose, pseudo_collate
from mmengine.registry import init_default_scope
from mmengine.runner import load_checkpoint

from .frame_sources import CurrentFrame, FrameLike, FrameSource, LazyFrames, load_frame
from .test_pipeline import build_test_pipeline, scheduled_pipeline

#: mmtrack 1.x's default ``ref_img_sampler`` of ``inference_vid``.
DEFAULT_REF_IMG_SAMPLER = dict(frame_stride=2, num_left_ref_imgs=10)


def _is_pretrained_init(init_cfg) -> bool:
    items = init_cfg if isinstance(init_cfg, (list, tuple)) else [init_cfg]
    return any(isinstance(item, dict) and item.get('type') == 'Pretrained' for item in items)


def drop_pretrained_init(cfg) -> None:
    """Remove every ``init_cfg`` of type ``'Pretrained'`` in a model config, in place.

    Pretrained initialisation (ImageNet backbones, FlowNet weights) downloads files and is
    pointless when a checkpoint follows or only the structure is needed; it may sit at any
    depth (``model.backbone``, DFF/FGFA's ``model.detector.backbone`` and
    ``model.motion``).
    """
    if isinstance(cfg, dict):
        if _is_pretrained_init(cfg.get('init_cfg')):
            cfg['init_cfg'] = None
        for value in cfg.values():
            drop_pretrained_init(value)
    elif isinstance(cfg, (list, tuple)):
        for value in cfg:
            drop_pretrained_init(value)


def init_model(
    config: Union[str, Config],
    checkpoint: Optional[str] = None,
    device: str = 'cuda:0',
    cfg_options: Optional[dict] = None,
) -> torch.nn.Module:
    """Build a video detector from a config and optionally load a checkpoint.

    Pretrained initialisation is switched off wherever it sits in the model config (see
    :func:`drop_pretrained_init`; the weights come from ``checkpoint``); without a
    checkpoint the model keeps its random initialisation.

    Args:
        config (str | Config): Config file or object.
        checkpoint (str, optional): Checkpoint file.
        device (str): Device of the model. Defaults to ``'cuda:0'`` (mmtrack's default);
            on a machine without CUDA the default falls back to ``'cpu'`` with a warning
            (an explicit ``'cuda...'`` device still fails there).
        cfg_options (dict, optional): Overrides merged into the config.

    Returns:
        nn.Module: The model in eval mode, with ``cfg`` (the config) and ``dataset_meta``
        (from the checkpoint, when it has one) attached.
    """
    if isinstance(config, (str, os.PathLike)):
        config = Config.fromfile(str(config))
    elif not isinstance(config, Config):
        raise TypeError(f'config must be a filename or Config, got {type(config).__name__}')
    config = copy.deepcopy(config)
    if cfg_options is not None:
        config.merge_from_dict(cfg_options)
    init_default_scope(config.get('default_scope', 'mmdet'))
    import mmpsla  # noqa: F401  (registers the modules)

    model_cfg = config.model
    drop_pretrained_init(model_cfg)
    model = MODELS.build(model_cfg)
    model.init_weights()
    if checkpoint is not None:
        ckpt = load_checkpoint(model, checkpoint, map_location='cpu')
        meta = ckpt.get('meta', {}) if isinstance(ckpt, dict) else {}
        if 'dataset_meta' in meta:
            model.dataset_meta = meta['dataset_meta']
    model.cfg = config
    if device == 'cuda:0' and not torch.cuda.is_available():
        warnings.warn('init_model: CUDA is not available; using device="cpu"', stacklevel=2)
        device = 'cpu'
    model.to(device)
    model.eval()
    return model


def predict_frame(model: torch.nn.Module, pipeline: Compose, video_infos: dict) -> TrackDataSample:
    """Run ``pipeline`` on one frame's video info and ``model.test_step`` on the result.

    Returns:
        TrackDataSample: the packed clip; its current frame
        (``video_data_samples[key_frames_inds[0]]``) holds ``pred_instances``.
    """
    data = pseudo_collate([pipeline(video_infos)])
    with torch.no_grad():
        return model.test_step(data)[0]


def _stream_key(model: torch.nn.Module, ref_img_sampler: Optional[dict]) -> tuple:
    return id(model.cfg), tuple(sorted((ref_img_sampler or {}).items()))


def inference_vid(
    model: torch.nn.Module,
    image: FrameLike,
    frame_id: int,
    ref_img_sampler: Optional[dict] = None,
) -> TrackDataSample:
    """Detect objects in one frame of a video (mmtrack 1.x's ``inference_vid``).

    Frames of a video are passed in order, ``frame_id`` 0, 1, 2, ...; ``frame_id == 0``
    starts a new video (the model's video state is reset). No frame after the current one
    is known, so every method runs its streaming schedule: PSLA and DFF take the first
    frame of each segment of ``l`` frames as key frame (``PSLAKeyFrameSchedule(mode=
    'first')`` / DFF's), FGFA and SELSA aggregate the causal window
    ``[t - n * s, ..., t - s, t]`` with ``n = num_left_ref_imgs``, ``s = frame_stride``
    (mmtrack's per-frame semantics). The result equals :func:`inference_video` in
    streaming mode frame for frame.

    Args:
        model (nn.Module): From :func:`init_model`.
        image (ndarray | str): The frame, HxWx3 BGR uint8 (or an image path).
        frame_id (int): Its index in the video.
        ref_img_sampler (dict, optional): ``frame_stride`` and ``num_left_ref_imgs`` of
            the window methods. Defaults to mmtrack's ``dict(frame_stride=2,
            num_left_ref_imgs=10)``.

    Returns:
        TrackDataSample: the packed sample; ``video_data_samples[key_frames_inds[0]]`` is
        the frame, with ``pred_instances`` (bboxes (n, 4) xyxy in its pixel coordinates,
        scores (n,), labels (n,)).
    """
    if not isinstance(frame_id, (int, np.integer)) or frame_id < 0:
        raise ValueError(f'frame_id must be an int >= 0, got {frame_id!r}')
    window = dict(DEFAULT_REF_IMG_SAMPLER if ref_img_sampler is None else ref_img_sampler)
    if set(window) != set(DEFAULT_REF_IMG_SAMPLER):
        raise ValueError(
            f'ref_img_sampler must have the keys {sorted(DEFAULT_REF_IMG_SAMPLER)}, got {window}'
        )
    key = _stream_key(model, window)
    stream = getattr(model, '_inference_stream', None)
    if frame_id == 0 or stream is None or stream['key'] != key:
        if frame_id != 0:
            raise ValueError(f'a video starts at frame_id 0, got {frame_id} first')
        pipeline = build_test_pipeline(
            model.cfg, mode='first', test_cfg=model.test_cfg, causal_window=window
        )
        stream = {'key': key, 'pipeline': pipeline, 'next': 0}
        model._inference_stream = stream
        model.reset_video_state()
    if frame_id != stream['next']:
        raise ValueError(
            f'frames must arrive in order: expected frame_id {stream["next"]}, got {frame_id}'
        )
    video_infos = {
        'video_id': 0,
        'video_length': frame_id + 1,
        'images': CurrentFrame(load_frame(image), frame_id),
        'key_frame_id': frame_id,
    }
    result = predict_frame(model, stream['pipeline'], video_infos)
    stream['next'] = frame_id + 1
    return result


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
        model (nn.Module): From :func:`init_model`.
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
    source = FrameSource(frames)
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
    pipeline = build_test_pipeline(model.cfg, key_frame_interval, mode, model.test_cfg)
    return _frame_results(model, source, pipeline, keep, return_images)


def _frame_results(model, source, pipeline, keep, return_images) -> Iterator:
    """Feed the frames of ``source`` through ``pipeline`` and ``model`` one by one.

    ``keep`` frames before the current one stay readable (the PSLA schedule looks back at
    its segment's key frame); older ones are released.
    """
    model.reset_video_state()
    device = next(model.parameters()).device
    images = LazyFrames(source)
    index = 0
    while source.length is None or index < source.length:
        if source.get(index) is None:
            break
        images.length = source.length if source.length is not None else index + 1
        video_infos = {
            'video_id': 0,
            'video_length': images.length,
            'images': images,
            'key_frame_id': index,
        }
        result = predict_frame(model, pipeline, video_infos)
        current = result[result.key_frames_inds[0]]
        current = current.cpu() if device.type != 'cpu' else current
        yield (images[index]['img'], current) if return_images else current
        images.release_before(index + 1 - keep)
        index += 1

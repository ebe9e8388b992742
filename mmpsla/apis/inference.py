"""Inference API with mmtrack 1.x's VID names and signatures.

* :func:`init_model` -- build a video detector from a config (mmpsla's or mmtrack 1.x's)
  and load a checkpoint (mmpsla's or mmtrack's).
* :func:`inference_vid` -- mmtrack's per-frame call: one frame in, its
  ``TrackDataSample`` out; frames of a video arrive in order (streaming, no look-ahead).
  Several videos at once: lists of frames and frame ids, one per video slot.
* :func:`~.video_inference.inference_video` / :func:`~.video_inference.inference_videos`
  -- mmpsla's whole-video generators (one video, or B in lockstep).

All feed frames through the config's test pipeline (:mod:`.test_pipeline`), whose frame
sampler marks the key / reference frames the model reads (the test-schedule contract), and
share :func:`predict_frames` (one lockstep step of B videos through ``model.test_step``).
"""

import copy
import os
import warnings
from typing import List, Optional, Sequence, Union

import numpy as np
import torch
from mmdet.registry import MODELS
from mmdet.structures import TrackDataSample
from mmengine.config import Config
from mmengine.dataset import Compose, pseudo_collate
from mmengine.registry import init_default_scope
from mmengine.runner import load_checkpoint

from .frame_sources import CurrentFrame, FrameLike, load_frame
from .test_pipeline import build_test_pipeline

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
    return predict_frames(model, [(pipeline, video_infos)])[0]


def predict_frames(model: torch.nn.Module, items) -> List[TrackDataSample]:
    """One lockstep step: the current frames of B videos through the model as one batch.

    Args:
        model (nn.Module): a video detector (one state per ``video_id``).
        items (list[tuple[Compose, dict]]): per video, its test pipeline and the video
            info of its current frame (``video_id`` distinct across the batch).

    Returns:
        list[TrackDataSample]: per video, the packed clip with ``pred_instances`` on its
        current frame.
    """
    data = pseudo_collate([pipeline(video_infos) for pipeline, video_infos in items])
    with torch.no_grad():
        return model.test_step(data)


def _stream_key(model: torch.nn.Module, ref_img_sampler: Optional[dict]) -> tuple:
    return id(model.cfg), tuple(sorted((ref_img_sampler or {}).items()))


def inference_vid(
    model: torch.nn.Module,
    image: Union[FrameLike, Sequence[FrameLike]],
    frame_id: Union[int, Sequence[int]],
    ref_img_sampler: Optional[dict] = None,
) -> Union[TrackDataSample, List[TrackDataSample]]:
    """Detect objects in one frame of a video (mmtrack 1.x's ``inference_vid``), or in one
    frame of each of B videos at once.

    Frames of a video are passed in order, ``frame_id`` 0, 1, 2, ...; ``frame_id == 0``
    starts a new video (its state is reset). No frame after the current one
    is known, so every method runs its streaming schedule: PSLA and DFF take the first
    frame of each segment of ``l`` frames as key frame (``PSLAKeyFrameSchedule(mode=
    'first')`` / DFF's), FGFA and SELSA aggregate the causal window
    ``[t - n * s, ..., t - s, t]`` with ``n = num_left_ref_imgs``, ``s = frame_stride``
    (mmtrack's per-frame semantics). The result equals :func:`inference_video` in
    streaming mode frame for frame.

    Batch (mmtrack issue #141): ``image`` a list of B frames and ``frame_id`` a list of
    B ids, one per video *slot*; each slot is its own stream (its own key frames / cache),
    the B frames go through the model as one batch (the frames of one size share each
    network call) and the results equal B separate streams. A slot starts a new video
    with ``frame_id`` 0; B can change only when every slot starts anew.

    Args:
        model (nn.Module): From :func:`init_model`.
        image (ndarray | str | list): The frame, HxWx3 BGR uint8 (or an image path), or
            a list of B of them.
        frame_id (int | list[int]): Its index in the video (B indices for B frames).
        ref_img_sampler (dict, optional): ``frame_stride`` and ``num_left_ref_imgs`` of
            the window methods. Defaults to mmtrack's ``dict(frame_stride=2,
            num_left_ref_imgs=10)``.

    Returns:
        TrackDataSample | list[TrackDataSample]: the packed sample (a list of B for a
        batch); ``video_data_samples[key_frames_inds[0]]`` is the frame, with
        ``pred_instances`` (bboxes (n, 4) xyxy in its pixel coordinates, scores (n,),
        labels (n,)).
    """
    batched = isinstance(image, (list, tuple))
    images = list(image) if batched else [image]
    frame_ids = list(frame_id) if isinstance(frame_id, (list, tuple)) else [frame_id]
    if batched != isinstance(frame_id, (list, tuple)) or len(images) != len(frame_ids):
        raise ValueError(
            'image and frame_id must both be single values or lists of the same length (one '
            f'frame per video slot), got {len(images) if batched else "one"} image(s) and '
            f'frame_id={frame_id!r}'
        )
    if not images:
        raise ValueError('inference_vid: the batch is empty (pass at least one frame)')
    for fid in frame_ids:
        if not isinstance(fid, (int, np.integer)) or isinstance(fid, bool) or fid < 0:
            raise ValueError(f'frame_id must be an int >= 0, got {fid!r}')
    window = dict(DEFAULT_REF_IMG_SAMPLER if ref_img_sampler is None else ref_img_sampler)
    if set(window) != set(DEFAULT_REF_IMG_SAMPLER):
        raise ValueError(
            f'ref_img_sampler must have the keys {sorted(DEFAULT_REF_IMG_SAMPLER)}, got {window}'
        )
    key = _stream_key(model, window)
    stream = getattr(model, '_inference_stream', None)
    if stream is None or stream['key'] != key or len(stream['next']) != len(images):
        if any(fid != 0 for fid in frame_ids):
            expected = None if stream is None else len(stream['next'])
            raise ValueError(
                f'a video starts at frame_id 0, got frame_id={frame_id!r} first'
                + (
                    f' (the stream has {expected} slot(s), this call {len(images)}; B can '
                    'change only when every slot starts at frame_id 0)'
                    if expected
                    else ''
                )
            )
        pipeline = build_test_pipeline(
            model.cfg, mode='first', test_cfg=model.test_cfg, causal_window=window
        )
        stream = {'key': key, 'pipeline': pipeline, 'next': [0] * len(images)}
        model._inference_stream = stream
        model.reset_video_state()
    for slot, fid in enumerate(frame_ids):
        if fid not in (0, stream['next'][slot]):
            raise ValueError(
                f'frames must arrive in order: expected frame_id {stream["next"][slot]}'
                + (f' in slot {slot}' if batched else '')
                + f', got {fid}'
            )
    items = [
        (
            stream['pipeline'],
            {
                'video_id': slot,
                'video_length': fid + 1,
                'images': CurrentFrame(load_frame(img), fid),
                'key_frame_id': fid,
            },
        )
        for slot, (img, fid) in enumerate(zip(images, frame_ids))
    ]
    results = predict_frames(model, items)
    stream['next'] = [fid + 1 for fid in frame_ids]
    return results if batched else results[0]

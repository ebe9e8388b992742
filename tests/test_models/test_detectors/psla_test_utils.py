"""Helpers of the detector tests: tiny models from the toy configs and synthetic samples."""

import os.path as osp
from typing import Dict, List, Optional, Sequence

import torch
from mmdet.structures import DetDataSample, TrackDataSample
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmengine.structures import InstanceData

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
H, W = 64, 96


def load_cfg(name: str) -> Config:
    """Config under ``configs/`` of the repository."""
    return Config.fromfile(osp.join(ROOT, 'configs', name))


def build_model(name: str = 'toy/psla_c_toy.py', **model_overrides):
    """Build the model of a config (mmdet scope), with its weights made non-trivial."""
    from mmdet.registry import MODELS

    import mmpsla  # noqa: F401

    init_default_scope('mmdet')
    cfg = load_cfg(name)
    cfg.model.update(model_overrides)
    if cfg.model.get('backbone') is not None:
        cfg.model.backbone.init_cfg = None
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    model.init_weights()
    # the fusion nets start as an even blend; randomise them so tests see real weights
    for name_, module in model.named_modules():
        if name_.endswith(('update_net', 'quality_net')):
            for p in module.parameters():
                torch.nn.init.normal_(p, std=0.05)
    return model


def det_sample(
    frame_id: int,
    video_id: int = 0,
    meta: Optional[Dict] = None,
    scale: float = 1.0,
    with_gt: bool = True,
) -> DetDataSample:
    """A DetDataSample of an (H, W) input frame resized by ``scale`` from the original."""
    info = {
        'img_id': video_id * 1000 + frame_id,
        'video_id': video_id,
        'frame_id': frame_id,
        'img_shape': (H, W),
        'ori_shape': (round(H / scale), round(W / scale)),
        'scale_factor': (scale, scale),
        'batch_input_shape': (H, W),
        'pad_shape': (H, W),
    }
    info.update(meta or {})
    sample = DetDataSample(metainfo=info)
    if with_gt:
        sample.gt_instances = InstanceData(
            bboxes=torch.tensor([[8.0, 8.0, 40.0, 36.0], [50.0, 20.0, 90.0, 60.0]]),
            labels=torch.tensor([0, 2]),
        )
    return sample


def track_sample(frames: Sequence[DetDataSample], key_flags: Sequence[bool]) -> TrackDataSample:
    sample = TrackDataSample()
    sample.video_data_samples = list(frames)
    sample.set_metainfo(
        {
            'key_frames_inds': [i for i, f in enumerate(key_flags) if f],
            'ref_frames_inds': [i for i, f in enumerate(key_flags) if not f],
        }
    )
    return sample


def train_batch(batch: int = 2, seed: int = 0):
    """(inputs (N, 3, 3, H, W), samples) in the [k1, k2, n] order of PSLATrainFrameSample."""
    g = torch.Generator().manual_seed(seed)
    inputs = torch.randn(batch, 3, 3, H, W, generator=g)
    samples = [
        track_sample([det_sample(f, video_id=b) for f in (0, 4, 9)], [False, False, True])
        for b in range(batch)
    ]
    return inputs, samples


def schedule(index: int, length: int, interval: int, mode: str) -> List[int]:
    """Packed frame indices and key frame of frame ``index`` (PSLAKeyFrameSchedule)."""
    start = index - index % interval
    size = min(interval, length - start)
    key = start + size // 2 if mode == 'middle' else start
    packed = [key, index] if index == start and key > index else [index]
    return packed, key


def make_stream(length: int, interval: int, mode: str, video_id: int = 0, seed: int = 0):
    """Per-frame (inputs (1, T, 3, H, W), [TrackDataSample]) of a synthetic video."""
    g = torch.Generator().manual_seed(seed + 100 * video_id)
    frames = torch.randn(length, 3, H, W, generator=g)
    out = []
    for i in range(length):
        packed, key = schedule(i, length, interval, mode)
        samples = [
            det_sample(j, video_id, {'key_frame_id': key, 'is_key_frame': j == key}, with_gt=False)
            for j in packed
        ]
        flags = [False] * (len(packed) - 1) + [True]
        out.append((frames[packed][None], [track_sample(samples, flags)]))
    return frames, out

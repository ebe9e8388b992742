"""The ImageNet VID base configs build their datasets and run their pipelines."""

import json
from pathlib import Path

import cv2
import numpy as np
import pytest
from mmdet.registry import DATA_SAMPLERS, DATASETS
from mmengine.config import Config
from mmengine.registry import init_default_scope

from mmpsla.datasets import VID_CLASSES

REPO = Path(__file__).resolve().parents[2]
CONFIGS = {
    'imagenet_vid_det_psla.py': (3, ['key_frame_id', 'is_key_frame']),
    'imagenet_vid_fgfa_style.py': (3, ['frame_stride', 'num_left_ref_imgs']),
    'imagenet_vid_dff_style.py': (2, ['key_frame_id', 'is_key_frame']),
}


def _write_split(root, kind, name, num_videos, num_frames):
    images, anns, videos = [], [], []
    for v in range(num_videos):
        videos.append(dict(id=v + 1, name=f'{kind}_{v}'))
        for f in range(num_frames):
            file_name = f'{kind}_{v}/{f:06d}.JPEG'
            path = root / 'Data' / kind / file_name
            path.parent.mkdir(parents=True, exist_ok=True)
            cv2.imwrite(str(path), np.full((48, 64, 3), 40 * f % 255, np.uint8))
            img_id = len(images) + 1
            images.append(dict(id=img_id, video_id=v + 1, frame_id=f, file_name=file_name,
                               width=64, height=48, is_vid_train_frame=f % 2 == 0))  # fmt: skip
            anns.append(dict(id=img_id, image_id=img_id, video_id=v + 1, category_id=3,
                             instance_id=v + 1, bbox=[f, 4, 20, 30], area=600, iscrowd=False,
                             occluded=False))  # fmt: skip
    cats = [dict(id=i + 1, name=n) for i, n in enumerate(VID_CLASSES)]
    out = root / 'annotations' / name
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(dict(categories=cats, videos=videos, images=images,
                                   annotations=anns)))  # fmt: skip


@pytest.fixture(scope='module')
def ilsvrc_root(tmp_path_factory):
    root = tmp_path_factory.mktemp('ILSVRC')
    _write_split(root, 'VID', 'imagenet_vid_train.json', 1, 12)
    _write_split(root, 'VID', 'imagenet_vid_val.json', 1, 12)
    _write_split(root, 'DET', 'imagenet_det_30cls.json', 2, 1)
    return root


@pytest.mark.parametrize('name', sorted(CONFIGS))
def test_imagenet_config_builds_and_runs(name, ilsvrc_root):
    num_frames, meta_keys = CONFIGS[name]
    init_default_scope('mmdet')
    cfg = Config.fromfile(str(REPO / 'configs' / '_base_' / 'datasets' / name))
    for sub in cfg.train_dataloader.dataset.datasets:
        sub.data_root = str(ilsvrc_root) + '/'
    cfg.test_dataloader.dataset.data_root = str(ilsvrc_root) + '/'
    train = DATASETS.build(cfg.train_dataloader.dataset)
    sampler = DATA_SAMPLERS.build(dict(cfg.train_dataloader.sampler, dataset=train, seed=0))
    # VID targets: the 6 is_vid_train_frame frames; DET: its 2 one-frame videos
    assert sorted(sampler.indices) == [(0, f) for f in range(0, 12, 2)] + [(1, 0), (2, 0)]
    for idx in [(0, 4), (2, 0)]:
        sample = train[idx]
        assert sample['inputs'].shape == (num_frames, 3, 600, 800)  # shorter side 600
        track = sample['data_samples']
        assert track.key_frames_inds == [num_frames - 1]
        assert track.video_data_samples[-1].img_id == (5 if idx[0] == 0 else 2)
    test = DATASETS.build(cfg.test_dataloader.dataset)
    first = test[(0, 0)]['data_samples']
    current = first.video_data_samples[first.key_frames_inds[0]]
    assert current.frame_id == 0 and current.ori_shape == (48, 64)
    for key in meta_keys:
        assert key in current.metainfo

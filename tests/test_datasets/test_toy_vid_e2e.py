"""End to end: toy set -> base config -> datasets, samplers, pipelines -> VIDMetric."""

import copy
import random
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from mmdet.registry import DATA_SAMPLERS, DATASETS, METRICS, MODELS, TRANSFORMS
from mmengine.registry import init_default_scope
from mmengine.structures import InstanceData

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from fixtures.toy_data import make_small_toy_vid, toy_dataset_config  # noqa: E402

pytestmark = pytest.mark.slow


@pytest.fixture(scope='module')
def toy_cfg(tmp_path_factory):
    root = make_small_toy_vid(tmp_path_factory.mktemp('toy_vid'))
    init_default_scope('mmdet')
    return toy_dataset_config(root)


def _preprocessor():
    return MODELS.build(dict(type='TrackDataPreprocessor', mean=[0, 0, 0], std=[1, 1, 1],
                             bgr_to_rgb=True, pad_size_divisor=16))  # fmt: skip


def test_train_pipeline_packs_k1_k2_n_sample(toy_cfg):
    dataset = DATASETS.build(toy_cfg.train_dataloader.dataset)
    sampler = DATA_SAMPLERS.build(dict(toy_cfg.train_dataloader.sampler, dataset=dataset, seed=0))
    indices = list(sampler)
    assert len(indices) == sum(len(dataset.get_target_frame_inds(v)) for v in range(2))
    batch = [dataset[idx] for idx in indices[:3]]
    for (video_idx, frame_idx), sample in zip(indices, batch):
        assert sample['inputs'].shape == (3, 3, 128, 192)
        track = sample['data_samples']
        assert track.key_frames_inds == [2] and track.ref_frames_inds == [0, 1]
        frames = track.video_data_samples
        n = frames[2].frame_id
        assert n == frame_idx and frames[2].video_id == video_idx + 1
        assert n - 10 <= frames[0].frame_id <= max(n - 5, 0)
        assert max(n - 5, 0) <= frames[1].frame_id <= n + 5
        assert len(frames[2].gt_instances.bboxes) > 0
        assert isinstance(frames[2].is_degraded, bool)
    inputs = dict(
        inputs=[b['inputs'] for b in batch], data_samples=[b['data_samples'] for b in batch]
    )
    out = _preprocessor()(inputs, training=True)
    assert out['inputs'].shape == (3, 3, 3, 128, 192)
    assert out['data_samples'][0].key_frames_inds == [2]


def test_broadcast_flips_all_frames_and_boxes_consistently(toy_cfg):
    pipelines = {}
    for prob in (0.0, 1.0):
        cfg = copy.deepcopy(toy_cfg.train_pipeline)
        cfg[1]['transforms'][-1]['prob'] = prob
        pipelines[prob] = [TRANSFORMS.build(t) for t in cfg]
    dataset = DATASETS.build(dict(toy_cfg.train_dataloader.dataset, pipeline=[]))
    outs = {}
    for prob, transforms in pipelines.items():
        random.seed(7)
        results = dataset.get_data_info(1)
        results['key_frame_id'] = 6
        for t in transforms:
            results = t(results)
        outs[prob] = results
    plain, flipped = outs[0.0], outs[1.0]
    for a, b in zip(plain['data_samples'].video_data_samples,
                    flipped['data_samples'].video_data_samples):  # fmt: skip
        assert a.frame_id == b.frame_id and b.flip and not a.flip
        boxes = a.gt_instances.bboxes.clone()
        mirrored = torch.stack([192 - boxes[:, 2], boxes[:, 1], 192 - boxes[:, 0], boxes[:, 3]], 1)
        torch.testing.assert_close(b.gt_instances.bboxes, mirrored)
    torch.testing.assert_close(flipped['inputs'], plain['inputs'].flip(-1))


def test_test_pipeline_and_perfect_predictions_give_map_1(toy_cfg):
    dataset = DATASETS.build(toy_cfg.test_dataloader.dataset)
    sampler = DATA_SAMPLERS.build(dict(toy_cfg.test_dataloader.sampler, dataset=dataset))
    metric = METRICS.build(dict(toy_cfg.test_evaluator, progress=False))
    metric.dataset_meta = dataset.metainfo
    preprocessor = _preprocessor()
    seen, attached = [], []
    for idx in sampler:
        sample = dataset[idx]
        data = preprocessor(dict(inputs=[sample['inputs']], data_samples=[sample['data_samples']]))
        track = data['data_samples'][0]
        current = track.video_data_samples[track.key_frames_inds[0]]
        seen.append((current.video_id, current.frame_id))
        if len(track) == 2:
            attached.append((current.frame_id, track.video_data_samples[0].frame_id))
        assert data['inputs'].shape[1] == len(track)
        # perfect predictions from the packed ground truth, back in original coordinates
        gt = current.gt_instances
        scale = torch.tensor(current.scale_factor).repeat(2)
        current.pred_instances = InstanceData(
            bboxes=gt.bboxes / scale, scores=torch.ones(len(gt.labels)), labels=gt.labels
        )
        metric.process({}, [track.to_dict()])
    assert seen == [(v, f) for v in (1, 2) for f in range(12)]
    assert attached == [(0, 5), (10, 11)] * 2  # segments [0..9] key 5, [10, 11] key 11
    res = metric.evaluate(len(seen))
    assert res['vid/mAP'] == pytest.approx(1.0)
    assert res['vid/mAP_degraded'] == pytest.approx(1.0)
    assert res['vid/mAP_clean'] == pytest.approx(1.0)
    motion = [res[f'vid/mAP_{k}'] for k in ('slow', 'medium', 'fast')]
    assert all(np.isnan(m) or m == pytest.approx(1.0) for m in motion)
    assert not all(np.isnan(m) for m in motion)


def test_runner_builds_the_config_dataloaders(toy_cfg):
    from mmengine.runner import Runner

    train_cfg = dict(toy_cfg.train_dataloader, num_workers=0, persistent_workers=False)
    loader = Runner.build_dataloader(copy.deepcopy(train_cfg), seed=0)
    batch = next(iter(loader))
    assert len(batch['inputs']) == 4 and batch['inputs'][0].shape == (3, 3, 128, 192)
    assert all(s.key_frames_inds == [2] for s in batch['data_samples'])
    assert len(loader) == 6  # ceil(24 annotated train frames / batch 4)
    val_cfg = dict(toy_cfg.val_dataloader, num_workers=0, persistent_workers=False)
    loader = Runner.build_dataloader(copy.deepcopy(val_cfg), seed=0)
    frames = [b['data_samples'][0] for b in loader]
    assert len(frames) == 24
    assert [len(f) for f in frames[:12]] == [2] + [1] * 9 + [2, 1]

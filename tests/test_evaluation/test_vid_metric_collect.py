"""VIDMetric evaluates every frame, although the loops pass the number of videos as size."""

import json
from collections import defaultdict

import numpy as np
import pytest
import torch
from mmdet.structures import DetDataSample, TrackDataSample
from mmengine.structures import InstanceData

from mmpsla.evaluation import VIDMetric


def _predictions(ann_file, num_missed):
    """Perfect detections on every frame but the first ``num_missed`` (nothing there)."""
    with open(ann_file) as f:
        coco = json.load(f)
    label_of = {
        cat['id']: i for i, cat in enumerate(sorted(coco['categories'], key=lambda c: c['id']))
    }
    boxes = defaultdict(list)
    for ann in coco['annotations']:
        x, y, w, h = ann['bbox']
        boxes[ann['image_id']].append(([x, y, x + w, y + h], label_of[ann['category_id']]))
    samples = []
    for index, img in enumerate(coco['images']):
        frame = DetDataSample(metainfo=dict(img_id=img['id'], frame_id=img['frame_id']))
        found = boxes[img['id']] if index >= num_missed else []
        frame.pred_instances = InstanceData(
            bboxes=torch.tensor([b for b, _ in found], dtype=torch.float32).reshape(-1, 4),
            scores=torch.ones(len(found)),
            labels=torch.tensor([lab for _, lab in found], dtype=torch.long),
        )
        sample = TrackDataSample(video_data_samples=[frame], key_frames_inds=[0])
        samples.append(sample.to_dict())
    return coco, samples


def _expected_map(coco, num_missed):
    """Devkit AP with precision 1 up to recall r is r: mAP = mean per-class recall."""
    missed = {img['id'] for img in coco['images'][:num_missed]}
    total, found = defaultdict(int), defaultdict(int)
    for ann in coco['annotations']:
        total[ann['category_id']] += 1
        found[ann['category_id']] += ann['image_id'] not in missed
    return float(np.mean([found[c] / total[c] for c in total]))


def test_all_frames_are_evaluated_not_just_size(tiny_toy_root):
    ann_file = str(tiny_toy_root / 'annotations' / 'val.json')
    with open(ann_file) as f:
        num_videos = len(json.load(f)['videos'])
    coco, samples = _predictions(ann_file, num_missed=num_videos)
    assert len(samples) > num_videos  # frames outnumber videos
    metric = VIDMetric(ann_file=ann_file)
    metric.dataset_meta = dict(classes=tuple(c['name'] for c in coco['categories']))
    for start in range(0, len(samples), 4):
        metric.process({}, samples[start : start + 4])
    # ValLoop/TestLoop call evaluate(len(dataset)), i.e. the number of videos.
    results = metric.evaluate(num_videos)
    # Truncated to `num_videos` results, only the missed frames would be scored (mAP 0).
    expected = _expected_map(coco, num_missed=num_videos)
    assert 0.5 < expected < 1.0
    assert results['vid/mAP'] == pytest.approx(expected)

"""VIDMetric on test-sample inputs (TrackDataSample predictions, CocoVID ground truth)."""

import json
import math
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
from mmdet.structures import DetDataSample, TrackDataSample
from mmengine.structures import InstanceData

from mmpsla.evaluation import VIDCocoMetric, VIDMetric


@pytest.fixture
def ann_file(tmp_path):
    """One video, 6 frames, 2 classes; frames 4-5 degraded; instance 2 moves fast."""
    images, anns = [], []
    for f in range(6):
        images.append(dict(id=f + 1, video_id=1, frame_id=f, file_name=f'{f}.jpg', width=200,
                           height=100, is_vid_train_frame=True, is_degraded=f >= 4,
                           degradation='defocus' if f >= 4 else None))  # fmt: skip
        anns.append(dict(id=2 * f + 1, image_id=f + 1, video_id=1, category_id=1, instance_id=1,
                         bbox=[10, 10, 40, 40], area=1600, iscrowd=False))  # fmt: skip
        anns.append(dict(id=2 * f + 2, image_id=f + 1, video_id=1, category_id=2, instance_id=2,
                         bbox=[20 * f, 60, 20, 20], area=400, iscrowd=False))  # fmt: skip
    data = dict(categories=[dict(id=1, name='cat'), dict(id=2, name='dog')],
                videos=[dict(id=1, name='v')], images=images, annotations=anns)  # fmt: skip
    path = tmp_path / 'val.json'
    path.write_text(json.dumps(data))
    return str(path), data


def _track_sample(img_id, boxes, scores, labels, with_key_frame=False, is_key_frame=None):
    """A TrackDataSample like PSLAKeyFrameSchedule + predict produce ([key,] current)."""
    frames = []
    if with_key_frame:
        frames.append(DetDataSample(metainfo=dict(img_id=999)))
    meta = dict(img_id=img_id)
    if is_key_frame is not None:
        meta['is_key_frame'] = is_key_frame
    current = DetDataSample(metainfo=meta)
    current.pred_instances = InstanceData(
        bboxes=torch.tensor(boxes, dtype=torch.float32).reshape(-1, 4),
        scores=torch.tensor(scores, dtype=torch.float32),
        labels=torch.tensor(labels, dtype=torch.int64),
    )
    frames.append(current)
    sample = TrackDataSample()
    sample.video_data_samples = frames
    sample.set_metainfo(dict(key_frames_inds=[len(frames) - 1]))
    return sample.to_dict()


def _gt_prediction(data, img_id, score=0.9):
    boxes, labels = [], []
    for ann in data['annotations']:
        if ann['image_id'] == img_id:
            x, y, w, h = ann['bbox']
            boxes.append([x, y, x + w, y + h])
            labels.append(ann['category_id'] - 1)
    return boxes, [score] * len(boxes), labels


def _evaluate(ann_file, samples, **kwargs):
    metric = VIDMetric(ann_file=ann_file, progress=False, **kwargs)
    metric.dataset_meta = dict(classes=('cat', 'dog'))
    metric.process({}, samples)
    return metric.evaluate(len(samples))


def test_perfect_and_empty_predictions(ann_file):
    path, data = ann_file
    perfect = [_track_sample(i, *_gt_prediction(data, i), with_key_frame=i % 2 == 0)
               for i in range(1, 7)]  # fmt: skip
    res = _evaluate(path, perfect)
    for key in ('mAP', 'mAP_degraded', 'mAP_clean', 'AP_cat', 'AP_dog'):
        assert res[f'vid/{key}'] == pytest.approx(1.0)
    # cat is static (slow), dog moves 20 px / frame with a 20 px box (fast), no medium
    assert res['vid/mAP_slow'] == pytest.approx(1.0)
    assert res['vid/mAP_fast'] == pytest.approx(1.0)
    assert math.isnan(res['vid/mAP_medium'])
    empty = [_track_sample(i, [], [], []) for i in range(1, 7)]
    res = _evaluate(path, empty)
    assert res['vid/mAP'] == 0.0 and res['vid/mAP_degraded'] == 0.0


def test_breakdowns_separate_subsets(ann_file):
    path, data = ann_file
    samples = []
    for i in range(1, 7):
        boxes, scores, labels = _gt_prediction(data, i)
        if i >= 5:  # degraded frames: nothing found
            boxes, scores, labels = [], [], []
        else:  # clean frames: only the static cat
            boxes, scores, labels = boxes[:1], scores[:1], labels[:1]
        samples.append(_track_sample(i, boxes, scores, labels))
    res = _evaluate(path, samples)
    assert res['vid/mAP_degraded'] == 0.0
    assert res['vid/mAP_clean'] == pytest.approx(0.5)  # cat 1.0, dog 0.0
    assert res['vid/mAP_slow'] == pytest.approx(4 / 6)  # cat found on 4 of 6 frames
    assert res['vid/mAP_fast'] == 0.0
    assert res['vid/AP_cat'] == pytest.approx(4 / 6) and res['vid/AP_dog'] == 0.0


def test_key_and_non_key_frame_breakdown(ann_file):
    path, data = ann_file
    samples = []
    for i in range(1, 7):
        is_key = i in (2, 5)
        boxes, scores, labels = _gt_prediction(data, i) if is_key else ([], [], [])
        samples.append(_track_sample(i, boxes, scores, labels, is_key_frame=is_key))
    res = _evaluate(path, samples)
    assert res['vid/mAP_key_frames'] == pytest.approx(1.0)
    assert res['vid/mAP_non_key_frames'] == 0.0
    assert res['vid/mAP'] == pytest.approx(2 / 6)
    # frames without the flag (a frame-by-frame pipeline): no such breakdown
    plain = _evaluate(path, [_track_sample(i, *_gt_prediction(data, i)) for i in range(1, 7)])
    assert not any('key_frames' in key for key in plain)


def test_false_positive_and_small_object_hand_case(ann_file):
    path, data = ann_file
    samples = []
    for i in range(1, 7):
        boxes, scores, labels = _gt_prediction(data, i)
        if i == 1:
            # a cat false positive scored above everything
            boxes.append([150, 0, 190, 40])
            scores.append(0.95)
            labels.append(0)
        samples.append(_track_sample(i, boxes, scores, labels))
    res = _evaluate(path, samples, motion_breakdown=False)
    # cat: FP first then 6 TPs: precision envelope 6/7 at every recall step -> AP 6/7
    assert res['vid/AP_cat'] == pytest.approx(6 / 7)
    assert res['vid/AP_dog'] == pytest.approx(1.0)
    assert 'vid/mAP_slow' not in res
    # the dog is small (20x20): its threshold is min(.5, 400 / 900) = .444. Shifted by
    # 5 px: IoU 15/25 = .6 -> still TPs; by 8 px: IoU 12/28 = .429 -> all misses
    for shift, expected in ((5, 1.0), (8, 0.0)):
        samples = []
        for i in range(1, 7):
            boxes, scores, labels = _gt_prediction(data, i)
            boxes[1] = [boxes[1][0] + shift, boxes[1][1], boxes[1][2] + shift, boxes[1][3]]
            samples.append(_track_sample(i, boxes, scores, labels))
        assert _evaluate(path, samples)['vid/AP_dog'] == pytest.approx(expected)


def test_missing_frames_warn_and_bad_input(ann_file):
    path, data = ann_file
    with pytest.warns(UserWarning, match='5 of 6 frames .* their ground truth counts as missed'):
        res = _evaluate(path, [_track_sample(1, *_gt_prediction(data, 1))])
    # the devkit counts every frame: 1 of the 6 boxes of each class found
    assert res['vid/AP_cat'] == pytest.approx(1 / 6) and res['vid/mAP'] == pytest.approx(1 / 6)
    # plain DetDataSample dicts are accepted too
    det = DetDataSample(metainfo=dict(img_id=1))
    det.pred_instances = InstanceData(bboxes=torch.zeros(0, 4), scores=torch.zeros(0),
                                      labels=torch.zeros(0, dtype=torch.int64))  # fmt: skip
    with pytest.warns(UserWarning):
        assert _evaluate(path, [det.to_dict()])['vid/mAP'] == 0.0
    metric = VIDMetric(ann_file=path)
    with pytest.raises(ValueError, match='pred_instances'):
        metric.process({}, [DetDataSample(metainfo=dict(img_id=1)).to_dict()])
    with pytest.raises(ValueError, match='not in'):
        _evaluate(path, [_track_sample(77, [[0, 0, 1, 1]], [0.5], [0])])
    with pytest.raises(ValueError, match='iou_thr'):
        VIDMetric(ann_file=path, iou_thr=0)
    assert 'VIDMetric(ann_file=' in repr(metric)
    assert np.isclose(_evaluate(path, [_track_sample(i, *_gt_prediction(data, i))
                                       for i in range(1, 7)])['vid/mAP'], 1.0)  # fmt: skip


def test_evaluate_uses_every_frame_whatever_size_the_loop_passes(ann_file):
    # the mmengine test loop passes size=len(dataset), the number of *videos* (1 here)
    path, data = ann_file
    metric = VIDMetric(ann_file=path, progress=False)
    metric.dataset_meta = dict(classes=('cat', 'dog'))
    samples = [_track_sample(i, *_gt_prediction(data, i)) for i in range(1, 7)]
    metric.process({}, samples)
    with warnings.catch_warnings():
        warnings.simplefilter('error')  # no "frames got no prediction" warning
        assert metric.evaluate(1)['vid/mAP'] == pytest.approx(1.0)
    assert metric.results == []


def _dist_worker(rank, world_size, init_file, path, data, out_dir):
    import torch.distributed as dist

    dist.init_process_group('gloo', init_method=f'file://{init_file}', rank=rank,
                            world_size=world_size)  # fmt: skip
    try:
        # unequal shares, as TrackImgSampler gives whole videos to each rank
        img_ids = [1, 2, 3, 4] if rank == 0 else [5, 6]
        samples = []
        for i in img_ids:
            boxes, scores, labels = _gt_prediction(data, i, score=0.1 * i)
            if i == 6:  # one miss, seen by rank 1 only
                boxes, scores, labels = boxes[:1], scores[:1], labels[:1]
            samples.append(_track_sample(i, boxes, scores, labels))
        metric = VIDMetric(ann_file=path, progress=False)
        metric.dataset_meta = dict(classes=('cat', 'dog'))
        metric.process({}, samples)
        res = metric.evaluate(1)
        (Path(out_dir) / f'rank{rank}.json').write_text(json.dumps(res))
    finally:
        dist.destroy_process_group()


@pytest.mark.slow
def test_distributed_evaluation_matches_single_process(ann_file, tmp_path):
    import torch.multiprocessing as mp

    path, data = ann_file
    mp.spawn(_dist_worker, args=(2, str(tmp_path / 'init'), path, data, str(tmp_path)),
             nprocs=2, join=True)  # fmt: skip
    ranks = [json.loads((tmp_path / f'rank{r}.json').read_text()) for r in range(2)]
    samples = []
    for i in range(1, 7):
        boxes, scores, labels = _gt_prediction(data, i, score=0.1 * i)
        if i == 6:
            boxes, scores, labels = boxes[:1], scores[:1], labels[:1]
        samples.append(_track_sample(i, boxes, scores, labels))
    single = _evaluate(path, samples)
    assert single['vid/AP_dog'] == pytest.approx(5 / 6)  # the dog is missed on frame 6
    for res in ranks:  # every rank gets the broadcast result of all 6 frames
        assert res.keys() == single.keys()
        for key, value in single.items():
            assert res[key] == pytest.approx(value, nan_ok=True)


def _low_score_frame_and_false_positive(data):
    """The cat scored 0.1 on frame 3, a cat false positive scored 0.5 on frame 5."""
    samples = []
    for i in range(1, 7):
        boxes, scores, labels = _gt_prediction(data, i)
        if i == 3:
            scores[0] = 0.1
        if i == 5:
            boxes.append([150, 0, 190, 40])
            scores.append(0.5)
            labels.append(0)
        samples.append(_track_sample(i, boxes, scores, labels))
    return samples


def test_seq_nms_lifts_a_tracked_low_score_box_above_a_false_positive(ann_file):
    path, data = ann_file
    samples = _low_score_frame_and_false_positive(data)
    plain = _evaluate(path, samples, motion_breakdown=False)
    # cat: 5 TPs (0.9), the FP (0.5), the TP at 0.1: AP = 5/6 + 1/6 * 6/7 = 41/42
    assert plain['vid/AP_cat'] == pytest.approx(41 / 42)
    assert plain['vid/mAP'] == pytest.approx((41 / 42 + 1) / 2)
    assert _evaluate(path, samples, motion_breakdown=False, seq_nms=False) == plain
    # Seq-NMS links the static cat over the 6 frames: every box gets (5 * 0.9 + 0.1) / 6
    # = 0.77 > 0.5 (or 0.9 with 'max'); the FP links to nothing and keeps 0.5
    for cfg in (True, dict(rescore='max'), dict(link_iou_thr=0.7, suppress_iou_thr=0.5)):
        res = _evaluate(path, samples, motion_breakdown=False, seq_nms=cfg)
        assert res['vid/AP_cat'] == pytest.approx(1.0)
        assert res['vid/AP_dog'] == pytest.approx(1.0)  # the fast dog: no links, unchanged
        assert res['vid/mAP'] == pytest.approx(1.0)
        assert res['vid/mAP'] > plain['vid/mAP'] + 0.01
        assert res.keys() == plain.keys()
    metric = VIDMetric(ann_file=path, seq_nms=True)
    assert 'seq_nms={}' in repr(metric)
    assert 'seq_nms=None' in repr(VIDMetric(ann_file=path))
    for bad in (dict(rescore='mean'), dict(link_iou_thr=0), dict(iou=0.5), 'yes'):
        with pytest.raises(ValueError):
            VIDMetric(ann_file=path, seq_nms=bad)


def test_seq_nms_runs_per_video_in_frame_order(ann_file, tmp_path, monkeypatch):
    import mmpsla.evaluation.metrics.vid_metric as vid_metric

    path, data = ann_file
    # two videos with interleaved image ids, video 1's frame ids running backwards
    for img in data['images']:
        odd = img['id'] % 2 == 1
        img['video_id'] = 1 if odd else 2
        img['frame_id'] = (5 - img['id']) // 2 if odd else (img['id'] - 2) // 2
    for ann in data['annotations']:
        ann['video_id'] = 1 if ann['image_id'] % 2 == 1 else 2
    data['videos'].append(dict(id=2, name='w'))
    two_videos = tmp_path / 'two_videos.json'
    two_videos.write_text(json.dumps(data))
    calls, real = [], vid_metric.run_seq_nms

    def spy(frames, **kwargs):
        if frames:  # (the constructor checks the arguments on an empty video)
            calls.append([float(scores[0]) for _, scores, _ in frames])
        return real(frames, **kwargs)

    monkeypatch.setattr(vid_metric, 'run_seq_nms', spy)
    samples = [_track_sample(i, *_gt_prediction(data, i, score=0.1 * i)) for i in range(1, 7)]
    res = _evaluate(str(two_videos), samples, seq_nms=True)
    # video 1: img 5, 3, 1 (frame ids 0, 1, 2); video 2: img 2, 4, 6
    np.testing.assert_allclose(sorted(calls), [[0.2, 0.4, 0.6], [0.5, 0.3, 0.1]], rtol=1e-6)
    assert res['vid/mAP'] == pytest.approx(1.0)


def test_box_convention_is_read_from_the_file(ann_file, tmp_path):
    path, data = ann_file

    # the cat's box (x1, y1 = 10, w = h = 40) found only `rows` high: as edges IoU rows / 40,
    # as inclusive pixels (rows + 1) / 41; the threshold is 0.5 in both
    def run(file, rows, **kwargs):
        samples = []
        for i in range(1, 7):
            boxes, scores, labels = _gt_prediction(data, i)
            boxes[0] = [boxes[0][0], boxes[0][1], boxes[0][2], boxes[0][1] + rows]
            samples.append(_track_sample(i, boxes, scores, labels))
        return _evaluate(file, samples, motion_breakdown=False, **kwargs)['vid/AP_cat']

    pixels = tmp_path / 'pixels.json'
    pixels.write_text(json.dumps(dict(data, box_convention='inclusive_pixels')))
    assert run(path, 20) == 1.0 and run(path, 19.6) == 0.0  # no field: continuous
    assert run(str(pixels), 19.6) == 1.0 and run(str(pixels), 19.4) == 0.0
    assert run(path, 19.6, box_convention='inclusive_pixels') == 1.0  # for files without it
    with pytest.raises(ValueError, match="declares box_convention='inclusive_pixels'"):
        run(str(pixels), 14, box_convention='continuous')
    with pytest.raises(ValueError, match='box_convention must be one of'):
        VIDMetric(ann_file=path, box_convention='pixels')


def test_coco_style_ap_in_the_same_run(ann_file):
    path, data = ann_file
    samples = [_track_sample(i, *_gt_prediction(data, i)) for i in range(1, 7)]
    samples[2] = _track_sample(3, [], [], [])  # frame 3: both boxes missed
    res = _evaluate(path, samples, coco_metric=True)
    # COCO AP@50: 5 of 6 boxes per class at precision 1 -> recall points 0..0.83 of 101
    assert res['vid/coco_bbox_mAP_50'] == pytest.approx(round(84 / 101, 3))
    assert res['vid/mAP'] == pytest.approx(5 / 6)
    assert 'coco_metric={}' in repr(VIDMetric(ann_file=path, coco_metric=True))
    with pytest.raises(ValueError, match='coco_metric'):
        VIDMetric(ann_file=path, coco_metric='yes')
    # the same metric on its own, as mmtrack's CocoVideoMetric is used
    metric = VIDCocoMetric(ann_file=path)
    metric.dataset_meta = dict(classes=('cat', 'dog'))
    metric.process({}, samples)
    coco = metric.evaluate(1)  # the loop passes the number of videos
    assert coco['coco/bbox_mAP_50'] == res['vid/coco_bbox_mAP_50']
    with pytest.raises(ValueError, match='needs ann_file'):
        VIDCocoMetric()

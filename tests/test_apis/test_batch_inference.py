"""Batch inference (mmtrack #141): B videos in lockstep give the detections of B runs at
batch size 1 -- through ``inference_videos``, batched ``inference_vid`` and the Runner's
test loop with ``VideoLockstepBatchSampler``."""

import json
import os.path as osp
import pickle

import mmcv
import pytest
import torch
from mmengine.config import Config
from mmengine.runner import Runner

from mmpsla.apis import inference_vid, inference_video, inference_videos, init_model

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def _model(name):
    torch.manual_seed(0)
    model = init_model(osp.join(ROOT, 'configs', 'toy', f'{name}.py'), device='cpu')
    model.test_cfg.rcnn.score_thr = 0.0  # keep every box: a stricter comparison
    return model


def _toy_videos(root):
    """The validation videos of a toy set, as lists of BGR frames."""
    with open(osp.join(root, 'annotations', 'val.json')) as f:
        ann = json.load(f)
    videos = []
    for video in ann['videos']:
        images = sorted(
            (i for i in ann['images'] if i['video_id'] == video['id']), key=lambda i: i['frame_id']
        )
        videos.append([mmcv.imread(osp.join(root, 'Data', i['file_name'])) for i in images])
    return videos


def _assert_same(a, b):
    """Same detections (values), frame for frame."""
    assert a.frame_id == b.frame_id
    assert len(a.pred_instances) == len(b.pred_instances) > 0
    torch.testing.assert_close(a.pred_instances.labels, b.pred_instances.labels)
    torch.testing.assert_close(
        a.pred_instances.bboxes, b.pred_instances.bboxes, rtol=1e-4, atol=1e-3
    )
    torch.testing.assert_close(
        a.pred_instances.scores, b.pred_instances.scores, rtol=1e-4, atol=1e-5
    )


def _batch_sizes(module):
    """Record the batch size of every call of ``module``."""
    sizes = []
    module.register_forward_pre_hook(lambda m, args: sizes.append(args[0].shape[0]))
    return sizes


@pytest.mark.parametrize('name', ['psla_c_toy', 'dff_toy', 'fgfa_toy', 'frame_baseline_toy'])
def test_videos_in_lockstep_equal_one_at_a_time(name, tiny_toy_root):
    """Three videos of different lengths and sizes: per video, the same detections."""
    v0, v1 = _toy_videos(tiny_toy_root)
    videos = [v0[:5], v1[:7], [f[:, :128] for f in v0[2:7]]]  # 5 / 7 / 5 frames, one 128x128
    model = _model(name)
    interval = {'key_frame_interval': 3} if name in ('psla_c_toy', 'dff_toy') else {}
    alone = [list(inference_video(model, v, **interval)) for v in videos]
    sizes = _batch_sizes(model.backbone)
    steps = list(inference_videos(model, videos, **interval))
    assert len(steps) == 7
    for t, step in enumerate(steps):
        for b, video in enumerate(videos):
            if t < len(video):
                _assert_same(step[b], alone[b][t])
            else:
                assert step[b] is None  # the video has ended
    # the two 192x128 videos share the backbone's calls (one batch per image size)
    assert max(sizes) >= 2


def test_lockstep_streaming_iterators(tiny_toy_root):
    """Iterators (unknown length) stream in lockstep too (PSLA's streaming schedule)."""
    v0, v1 = _toy_videos(tiny_toy_root)
    model = _model('psla_c_toy')
    alone = [list(inference_video(model, iter(v))) for v in (v0, v1[:5])]
    steps = list(inference_videos(model, [iter(v0), iter(v1[:5])], key_frame_interval=10))
    assert [s[1] is None for s in steps] == [False] * 5 + [True] * 7
    assert len(alone[0]) == 12
    for t, step in enumerate(steps):
        _assert_same(step[0], alone[0][t])
        if t < 5:
            _assert_same(step[1], alone[1][t])
            assert step[1].is_key_frame == (t == 0)


def test_per_frame_batch_equals_single_streams(tiny_toy_root):
    """mmtrack's inference_vid with lists: one frame per slot, each slot its own stream."""
    v0, v1 = _toy_videos(tiny_toy_root)
    model = _model('dff_toy')
    single = [
        [inference_vid(model, img, frame_id=i) for i, img in enumerate(v[:4])] for v in (v0, v1)
    ]
    for i in range(4):
        batch = inference_vid(model, [v0[i], v1[i]], frame_id=[i, i])
        assert len(batch) == 2
        for b in range(2):
            current = batch[b][batch[b].key_frames_inds[0]]
            expected = single[b][i][single[b][i].key_frames_inds[0]]
            _assert_same(current, expected)
    # slot 1 starts a new video (frame 0) while slot 0 goes on
    batch = inference_vid(model, [v0[4], v0[0]], frame_id=[4, 0])
    restarted = batch[1][batch[1].key_frames_inds[0]]
    _assert_same(restarted, single[0][0][single[0][0].key_frames_inds[0]])


def test_per_frame_batch_errors(tiny_toy_root):
    v0, _ = _toy_videos(tiny_toy_root)
    model = _model('psla_c_toy')
    with pytest.raises(ValueError, match='same length'):
        inference_vid(model, [v0[0], v0[1]], frame_id=[0])
    with pytest.raises(ValueError, match='same length'):
        inference_vid(model, [v0[0]], frame_id=0)
    with pytest.raises(ValueError, match='empty'):
        inference_vid(model, [], frame_id=[])
    inference_vid(model, [v0[0], v0[0]], frame_id=[0, 0])
    with pytest.raises(ValueError, match='2 slot.*this call 3'):
        inference_vid(model, [v0[1]] * 3, frame_id=[1, 1, 1])
    with pytest.raises(ValueError, match='expected frame_id 1 in slot 1, got 2'):
        inference_vid(model, [v0[1], v0[2]], frame_id=[1, 2])
    with pytest.raises(ValueError, match='videos must be a non-empty list'):
        next(inference_videos(model, []))
    with pytest.raises(ValueError, match='videos must be a non-empty list'):
        inference_videos(model, 'a_video.mp4')


def _drop_frames(root, video_index, keep):
    """Shorten one validation video of a toy set to its first ``keep`` frames, in place."""
    path = osp.join(root, 'annotations', 'val.json')
    with open(path) as f:
        ann = json.load(f)
    video = ann['videos'][video_index]['id']
    dropped = {i['id'] for i in ann['images'] if i['video_id'] == video and i['frame_id'] >= keep}
    ann['images'] = [i for i in ann['images'] if i['id'] not in dropped]
    ann['annotations'] = [a for a in ann['annotations'] if a['image_id'] not in dropped]
    with open(path, 'w') as f:
        json.dump(ann, f)


@pytest.fixture(scope='module')
def uneven_toy_root(tmp_path_factory):
    """3 validation videos of 7, 12 and 12 frames."""
    from fixtures.toy_data import make_small_toy_vid

    root = make_small_toy_vid(tmp_path_factory.mktemp('uneven_toy'), num_val_videos=3)
    _drop_frames(root, 0, keep=7)
    return root


def _test_config(config, root, work_dir, batch_size, lockstep=True):
    """A toy config that only tests (random weights, every box kept) on ``root``."""
    cfg = Config.fromfile(osp.join(ROOT, 'configs', 'toy', config))
    data_root = f'{root}/'
    cfg.test_dataloader.dataset.data_root = data_root
    cfg.test_dataloader.batch_size = batch_size
    if lockstep and batch_size > 1:
        cfg.test_dataloader.batch_sampler = dict(type='VideoLockstepBatchSampler')
    cfg.test_evaluator = dict(type='VIDMetric', ann_file=data_root + 'annotations/val.json')
    cfg.merge_from_dict({'model.test_cfg.rcnn.score_thr': 0.0})  # FGFA: merged over detector's
    cfg.work_dir = work_dir
    cfg.load_from = None
    cfg.pop('val_dataloader'), cfg.pop('val_cfg'), cfg.pop('val_evaluator')
    cfg.train_dataloader = cfg.train_cfg = cfg.optim_wrapper = cfg.param_scheduler = None
    return cfg


def _runner_predictions(config, root, work_dir, batch_size):
    cfg = _test_config(config, root, work_dir, batch_size)
    out = osp.join(work_dir, 'preds.pkl')
    cfg.test_evaluator = [cfg.test_evaluator, dict(type='DumpFrameResults', out_file_path=out)]
    torch.manual_seed(0)
    metrics = Runner.from_cfg(cfg).test()
    with open(out, 'rb') as f:
        preds = pickle.load(f)
    frames = [p['video_data_samples'][p['key_frames_inds'][0]] for p in preds]
    return metrics, {f.img_id: f.pred_instances for f in frames}


@pytest.mark.slow
@pytest.mark.parametrize('config', ['psla_c_toy.py', 'fgfa_toy.py'])
def test_runner_lockstep_batches_equal_batch_one(config, uneven_toy_root, tmp_path):
    """tools/test.py's loop with test_dataloader.batch_size=2 / 3 and the lockstep batch
    sampler: every frame predicted once, the same detections and metrics as batch size 1
    (videos of 7, 12, 12 frames: at batch size 2 the third video starts while the second
    is half-way)."""
    ref_metrics, ref = _runner_predictions(config, uneven_toy_root, str(tmp_path / 'b1'), 1)
    assert len(ref) == 31
    for batch_size in (2, 3):
        metrics, preds = _runner_predictions(
            config, uneven_toy_root, str(tmp_path / f'b{batch_size}'), batch_size
        )
        assert preds.keys() == ref.keys()
        for img_id, a in preds.items():
            b = ref[img_id]
            assert len(a) == len(b) > 0
            torch.testing.assert_close(a.labels, b.labels)
            torch.testing.assert_close(a.scores, b.scores, rtol=1e-4, atol=1e-5)
            torch.testing.assert_close(a.bboxes, b.bboxes, rtol=1e-4, atol=1e-3)
        for key, value in ref_metrics.items():
            assert metrics[key] == pytest.approx(value, abs=1e-6), key


def test_runner_batch_without_lockstep_sampler_names_the_fix(uneven_toy_root, tmp_path):
    """batch_size=2 with TrackImgSampler alone puts two frames of one video in a batch."""
    cfg = _test_config('psla_c_toy.py', uneven_toy_root, str(tmp_path), 2, lockstep=False)
    runner = Runner.from_cfg(cfg)
    with pytest.raises(ValueError, match='one frame per video.*VideoLockstepBatchSampler'):
        runner.test()

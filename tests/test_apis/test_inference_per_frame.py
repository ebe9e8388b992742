"""mmtrack's per-frame ``inference_vid`` next to the whole-video ``inference_video``."""

import json
import os.path as osp

import mmcv
import pytest
import torch

from mmpsla.apis import inference_vid, inference_video, init_model

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
KEEP_ALL = {'rcnn': {'score_thr': 0.0}}


def _model(name):
    torch.manual_seed(0)
    cfg = osp.join(ROOT, 'configs', 'toy', f'{name}.py')
    model = init_model(cfg, device='cpu')
    test_cfg = model.test_cfg
    test_cfg.rcnn.score_thr = 0.0  # keep every box: a stricter comparison
    return model


def _toy_video(root, index=0):
    """Frames (BGR arrays) of a validation video of the toy set, in order."""
    with open(osp.join(root, 'annotations', 'val.json')) as f:
        ann = json.load(f)
    video = ann['videos'][index]['id']
    images = [i for i in ann['images'] if i['video_id'] == video]
    images.sort(key=lambda i: i['frame_id'])
    return [mmcv.imread(osp.join(root, 'Data', i['file_name'])) for i in images]


def _current(result):
    return result[result.key_frames_inds[0]]


@pytest.mark.parametrize('name', ['psla_c_toy', 'dff_toy', 'frame_baseline_toy'])
def test_per_frame_equals_whole_video_streaming(name, tiny_toy_root):
    """Identical detections, frame for frame, on a toy validation video."""
    frames = _toy_video(tiny_toy_root)
    model = _model(name)
    per_frame = [_current(inference_vid(model, img, frame_id=i)) for i, img in enumerate(frames)]
    whole = list(inference_video(model, iter(frames)))  # an iterator: streaming schedule
    assert len(per_frame) == len(whole) == len(frames)
    for a, b in zip(per_frame, whole):
        assert a.frame_id == b.frame_id
        assert len(a.pred_instances) > 0
        torch.testing.assert_close(a.pred_instances.bboxes, b.pred_instances.bboxes)
        torch.testing.assert_close(a.pred_instances.scores, b.pred_instances.scores)
        torch.testing.assert_close(a.pred_instances.labels, b.pred_instances.labels)
        if name != 'frame_baseline_toy':
            assert a.is_key_frame == b.is_key_frame and a.key_frame_id == b.key_frame_id
    # a second video restarts at frame 0: the state is reset, results do not leak
    again = [_current(inference_vid(model, img, frame_id=i)) for i, img in enumerate(frames)]
    for a, b in zip(per_frame, again):
        torch.testing.assert_close(a.pred_instances.scores, b.pred_instances.scores)


@pytest.mark.parametrize('name', ['fgfa_toy', 'selsa_toy'])
def test_window_methods_aggregate_a_causal_window(name, tiny_toy_root):
    """Per frame, FGFA / SELSA see [t - n*s, ..., t]: N_f runs once per frame, no look-ahead."""
    frames = _toy_video(tiny_toy_root)[:5]
    model = _model(name)
    calls = []
    model.backbone.register_forward_pre_hook(lambda m, a: calls.append(a[0].shape[0]))
    sampler = dict(frame_stride=1, num_left_ref_imgs=2)
    for i, img in enumerate(frames):
        result = inference_vid(model, img, frame_id=i, ref_img_sampler=sampler)
        meta = _current(result).metainfo
        assert (meta['num_left_ref_imgs'], meta['num_right_ref_imgs']) == (2, 0)
        assert meta['frame_stride'] == 1 and meta['ori_video_length'] == i + 1
        assert len(_current(result).pred_instances) > 0
    assert calls == [1] * 5
    cached = model.video_state['frames']
    assert sorted(cached) == [2, 3, 4]  # frames older than the window were dropped


def test_per_frame_arguments(tiny_toy_root):
    frames = _toy_video(tiny_toy_root)[:3]
    model = _model('psla_c_toy')
    with pytest.raises(ValueError, match='starts at frame_id 0'):
        inference_vid(model, frames[0], frame_id=2)
    inference_vid(model, frames[0], frame_id=0)
    with pytest.raises(ValueError, match='in order'):
        inference_vid(model, frames[2], frame_id=2)
    with pytest.raises(ValueError, match='ref_img_sampler must have'):
        inference_vid(model, frames[0], frame_id=0, ref_img_sampler=dict(stride=2))
    with pytest.raises(ValueError, match='frame_id must be'):
        inference_vid(model, frames[0], frame_id=-1)

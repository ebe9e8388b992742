"""inference_video drives DFF (streaming key frames) and FGFA (frames ahead) configs too."""

import os.path as osp

import cv2
import numpy as np
import pytest
import torch

from mmpsla.apis import inference_video, init_model

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
SCORES_KEPT = {'model': {'detector': {'test_cfg': {'rcnn': {'score_thr': 0.0}}}}}


def _frames(n, h=64, w=96):
    rng = np.random.default_rng(1)
    return [rng.integers(0, 255, (h, w, 3), dtype=np.uint8) for _ in range(n)]


def _model(name):
    torch.manual_seed(0)
    return init_model(osp.join(ROOT, 'configs', 'toy', f'{name}_toy.py'), cfg_options=SCORES_KEPT)


@pytest.fixture(scope='module')
def dff():
    return _model('dff')


@pytest.fixture(scope='module')
def fgfa():
    return _model('fgfa')


def _backbone_calls(model, frames, **kwargs):
    """Per frame: (result, images the backbone saw for it)."""
    calls = []
    handle = model.backbone.register_forward_pre_hook(lambda m, a: calls.append(a[0].size(0)))
    out = []
    try:
        for det in inference_video(model, frames, **kwargs):
            out.append((det, sum(calls)))
            calls.clear()
    finally:
        handle.remove()
    return out


def test_dff_runs_the_backbone_on_key_frames_only(dff):
    assert dff.test_cfg.key_frame_interval == 10  # the toy config's l
    out = _backbone_calls(dff, _frames(5), key_frame_interval=2)
    assert [d.frame_id for d, _ in out] == list(range(5))
    assert [n for _, n in out] == [1, 0, 1, 0, 1]  # key frames: 0, 2, 4
    assert [bool(d.is_key_frame) for d, _ in out] == [True, False, True, False, True]
    assert [d.key_frame_id for d, _ in out] == [0, 0, 2, 2, 4]
    assert dff.test_cfg.key_frame_interval == 10  # the model is never patched: the
    # pipeline's VIDRefFrameSample marks the key frames (the test-schedule contract)
    for det, _ in out:
        assert det.pred_instances.bboxes.shape[1] == 4 and len(det.pred_instances.scores) > 0
        assert tuple(det.ori_shape) == (64, 96)
    # the config's interval, and streaming from an iterator gives the same detections
    default = _backbone_calls(dff, _frames(5))
    assert [n for _, n in default] == [1, 0, 0, 0, 0]
    streamed = _backbone_calls(dff, iter(_frames(5)))
    for (a, _), (b, _) in zip(default, streamed):
        torch.testing.assert_close(a.pred_instances.scores, b.pred_instances.scores)


def test_fgfa_aggregates_frames_ahead(fgfa, tmp_path):
    frames = _frames(6)
    out = _backbone_calls(fgfa, frames)
    assert [d.frame_id for d, _ in out] == list(range(6))
    # frame 0 extracts itself and the frames ahead of it (window +-2), then one new frame
    # per step until the end of the video, where nothing new is left to extract
    assert [n for _, n in out] == [3, 1, 1, 1, 0, 0]
    folder = tmp_path / 'frames'
    folder.mkdir()
    for i, frame in enumerate(frames):
        cv2.imwrite(str(folder / f'{i:03d}.png'), frame)
    from_folder = [d for d, _ in _backbone_calls(fgfa, str(folder))]
    for (a, _), b in zip(out, from_folder):  # PNG is lossless
        torch.testing.assert_close(a.pred_instances.bboxes, b.pred_instances.bboxes)
        torch.testing.assert_close(a.pred_instances.scores, b.pred_instances.scores)


def test_bad_arguments_raise_at_the_call(dff, fgfa):
    with pytest.raises(ValueError, match='needs the number of frames'):
        inference_video(fgfa, iter(_frames(3)))
    with pytest.raises(ValueError, match='has no key frames'):
        inference_video(fgfa, _frames(3), key_frame_interval=2)
    for model in (dff, fgfa):
        with pytest.raises(ValueError, match='mode applies to the PSLA'):
            inference_video(model, _frames(3), mode='first')

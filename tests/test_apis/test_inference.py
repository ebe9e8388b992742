"""init_model / inference_video on synthetic frames (arrays, folder, video file, iterator)."""

import os.path as osp

import cv2
import numpy as np
import pytest
import torch

from mmpsla.apis import (
    build_test_pipeline,
    count_parameters,
    draw_detections,
    inference_video,
    init_model,
    video_length,
    write_video,
)

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CFG = osp.join(ROOT, 'configs', 'toy', 'psla_c_toy.py')


def _frames(n=7, h=64, w=96):
    rng = np.random.default_rng(0)
    return [rng.integers(0, 255, (h, w, 3), dtype=np.uint8) for _ in range(n)]


@pytest.fixture(scope='module')
def model():
    torch.manual_seed(0)
    return init_model(CFG, cfg_options={'model': {'test_cfg': {'rcnn': {'score_thr': 0.0}}}})


def _run(model, frames, **kwargs):
    calls = []
    handle = model.backbone.register_forward_pre_hook(lambda m, a: calls.append(1))
    out = []
    try:
        for det in inference_video(model, frames, **kwargs):
            out.append((det, len(calls)))
            calls.clear()
    finally:
        handle.remove()
    return out


def test_init_model_and_checkpoint_round_trip(model, tmp_path):
    assert not model.training and count_parameters(model) > 0
    path = str(tmp_path / 'ckpt.pth')
    torch.save(
        {'state_dict': model.state_dict(), 'meta': {'dataset_meta': {'classes': ('a',)}}}, path
    )
    loaded = init_model(CFG, path)
    assert loaded.dataset_meta == {'classes': ('a',)}
    for (k, v), (k2, v2) in zip(model.state_dict().items(), loaded.state_dict().items()):
        assert k == k2 and torch.equal(v, v2)


def test_middle_schedule_over_arrays(model):
    frames = _frames(7)
    out = _run(model, frames, key_frame_interval=3)
    assert [d.frame_id for d, _ in out] == list(range(7))
    assert [d.key_frame_id for d, _ in out] == [1, 1, 1, 4, 4, 4, 6]
    assert [bool(d.is_key_frame) for d, _ in out] == [False, True, False, False, True, False, True]
    assert [n for _, n in out] == [1, 0, 0, 1, 0, 0, 1]  # N_f runs on key frames only
    for det, _ in out:
        assert det.pred_instances.bboxes.shape[1] == 4
        assert tuple(det.ori_shape) == (64, 96)


def test_results_equal_the_direct_model_calls(model):
    frames = _frames(4)
    a = [d.pred_instances for d, _ in _run(model, frames, key_frame_interval=2, mode='first')]
    b = [d.pred_instances for d, _ in _run(model, iter(frames), key_frame_interval=2)]
    assert len(a) == len(b) == 4
    for x, y in zip(a, b):
        torch.testing.assert_close(x.bboxes, y.bboxes)
        torch.testing.assert_close(x.scores, y.scores)


def test_streaming_iterator_and_folder_and_video(model, tmp_path):
    frames = _frames(5)
    streamed = _run(model, iter(frames), key_frame_interval=2)
    assert [bool(d.is_key_frame) for d, _ in streamed] == [True, False, True, False, True]
    with pytest.raises(ValueError, match='mode="middle" needs'):
        next(inference_video(model, iter(frames), mode='middle'))
    folder = tmp_path / 'frames'
    folder.mkdir()
    for i, f in enumerate(frames):
        cv2.imwrite(str(folder / f'{i:04d}.png'), f)
    assert video_length(str(folder)) == 5
    from_folder = _run(model, str(folder), key_frame_interval=2, mode='first')
    for (x, _), (y, _) in zip(streamed, from_folder):  # PNG is lossless: same detections
        torch.testing.assert_close(x.pred_instances.scores, y.pred_instances.scores)
    video = write_video(list(frames), str(tmp_path / 'clip.mp4'), fps=5)
    from_video = _run(model, video, key_frame_interval=3)
    assert len(from_video) == 5
    assert [d.key_frame_id for d, _ in from_video] == [1, 1, 1, 4, 4]


def test_draw_and_gif(model, tmp_path):
    frames = _frames(3)
    dets = list(inference_video(model, frames))
    drawn = [draw_detections(f, d.pred_instances, score_thr=0.0) for f, d in zip(frames, dets)]
    assert any(not np.array_equal(a, b) for a, b in zip(drawn, frames))
    path = write_video(drawn, str(tmp_path / 'out.gif'))
    from PIL import Image

    with Image.open(path) as gif:
        assert gif.n_frames == 3 and gif.size == (96, 64)


def test_pipeline_loads_from_memory():
    from mmengine.config import Config

    cfg = Config.fromfile(CFG)
    pipeline = build_test_pipeline(cfg, 4, 'first')
    schedule = pipeline.transforms[0]
    assert type(schedule).__name__ == 'PSLAKeyFrameSchedule'
    assert schedule.key_frame_interval == 4 and schedule.mode == 'first'
    inner = [type(t).__name__ for t in pipeline.transforms[1].transforms.transforms]
    assert 'LoadImageFromNDArray' in inner and 'LoadTrackAnnotations' not in inner

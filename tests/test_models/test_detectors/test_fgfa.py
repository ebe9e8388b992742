"""FGFA: bilateral training, the fixed-stride test window, per-frame feature cache."""

import numpy as np
import pytest
import torch
from psla_test_utils import H, W, build_model, det_sample, load_cfg, track_sample
from test_dff import count_calls, zero_flow

from mmpsla.datasets.transforms import VIDRefFrameSample


def build_fgfa(left=2, right=2, **overrides):
    test_cfg = dict(num_left_ref_imgs=left, num_right_ref_imgs=right, frame_stride=1)
    return build_model('toy/fgfa_toy.py', test_cfg=test_cfg, **overrides)


def fix_stride_stream(frames, video_id=0, left=2, right=2):
    """Test samples packed as VIDRefFrameSample('test_with_fix_stride') packs them.

    The reference frames come from the real sampler (frames 0..right at frame 0, then the
    frame entering the window); refs first, the current frame last.
    """
    sampler = VIDRefFrameSample(method='test_with_fix_stride', frame_range=[-left, right])
    length = len(frames)
    for t in range(length):
        ids = sampler.sample_refs(t, length) + [t]
        meta = {
            'ori_video_length': length,
            'num_left_ref_imgs': left,
            'num_right_ref_imgs': right,
            'frame_stride': 1,
        }
        samples = [det_sample(i, video_id, meta, with_gt=False) for i in ids]
        flags = [False] * (len(ids) - 1) + [True]
        yield t, frames[ids][None], [track_sample(samples, flags)]


def current_pred(out):
    """pred_instances of the current frame of a predict output."""
    return out[0][out[0].key_frames_inds[0]].pred_instances


def video(length, seed=0):
    return torch.randn(length, 3, H, W, generator=torch.Generator().manual_seed(seed))


def test_loss_aggregates_warped_bilateral_references():
    model = build_fgfa()
    model.train()
    g = torch.Generator().manual_seed(0)
    inputs = torch.randn(2, 3, 3, H, W, generator=g)  # [ref before, target, ref after]
    samples = [
        track_sample([det_sample(f, video_id=b) for f in (2, 6, 9)], [False, True, False])
        for b in range(2)
    ]
    calls = count_calls(model.backbone)
    losses = model.loss(inputs, samples)
    assert calls == [6]  # N_f once, on the 2 targets and their 4 references together
    total, _ = model.parse_losses(losses)
    assert torch.isfinite(total)
    total.backward()
    assert model.aggregator.embed_convs[0].conv.weight.grad.abs().sum() > 0
    assert model.motion.predict_flow.conv.weight.grad.abs().sum() > 0
    assert model.backbone.feat_conv.weight.grad.abs().sum() > 0

    # value check: target features + warped references, aggregated per sample
    model.eval()
    with torch.no_grad():
        feat, _ = model._train_feat(inputs, samples)
        feats = model.extract_feat(inputs.flatten(0, 1)).view(2, 3, *feat.shape[1:])
        metas = [s[1].metainfo for s in samples]
        for b in range(2):
            refs = [
                model.warp_to_current(
                    feats[[b], r],
                    model.compute_flow(inputs[[b], 1], inputs[[b], r], metas[b : b + 1]),
                    [False],
                )
                for r in (0, 2)
            ]
            expected = model.aggregator(feats[[b], 1], torch.cat([feats[[b], 1], *refs]))
            torch.testing.assert_close(feat[[b]], expected)


def test_test_window_is_the_samplers_description():
    model = build_fgfa()  # test_cfg: 2 left, 2 right, stride 1
    meta = {'ori_video_length': 5, 'num_left_ref_imgs': 2, 'num_right_ref_imgs': 2}
    meta['frame_stride'] = 1
    assert model.test_window({**meta, 'frame_id': 0}) == [0, 0, 0, 1, 2]
    assert model.test_window({**meta, 'frame_id': 4}) == [2, 3, 4, 4, 4]
    # no description packed: an error naming the sampler and the meta keys, no fallback
    with pytest.raises(ValueError, match='test_with_fix_stride.*num_left_ref_imgs'):
        model.test_window({'frame_id': 0, 'ori_video_length': 5})
    # test_cfg's window sizes are never read: the sampler's description wins
    window = {'num_left_ref_imgs': 1, 'num_right_ref_imgs': 1, 'frame_stride': 2}
    assert model.test_window({**meta, **window, 'frame_id': 3}) == [1, 3, 4]


@pytest.mark.parametrize('frame_range,stride,length', [([-2, 2], 1, 7), ([-1, 2], 2, 9)])
def test_model_aggregates_the_window_the_sampler_attached(frame_range, stride, length):
    """The real pipeline (sampler + PackTrackInputs) describes W(t); the model reads it.

    Fails if the packed description and the sampler's own window (the frames it attached)
    ever disagree, or if a window frame was not attached by step t.
    """
    from mmengine.dataset import Compose

    pipeline = Compose(
        [
            dict(
                type='VIDRefFrameSample',
                method='test_with_fix_stride',
                frame_range=frame_range,
                stride=stride,
            ),
            dict(
                type='PackTrackInputs',
                meta_keys=('frame_stride', 'num_left_ref_imgs', 'num_right_ref_imgs'),
            ),
        ]
    )
    sampler = VIDRefFrameSample(
        method='test_with_fix_stride', frame_range=frame_range, stride=stride
    )
    model = build_model('toy/fgfa_toy.py')
    for key in ('num_left_ref_imgs', 'num_right_ref_imgs', 'frame_stride'):
        model.test_cfg.pop(key, None)
    images = [dict(img_id=i, frame_id=i, img=np.zeros((4, 4, 3), np.uint8)) for i in range(length)]
    attached = set()
    for t in range(length):
        info = dict(video_id=0, video_length=length, images=images, key_frame_id=t)
        packed = pipeline(info)['data_samples']
        attached |= {packed[i].frame_id for i in range(len(packed))}
        meta = packed[packed.key_frames_inds[0]].metainfo
        window = model.test_window(meta)
        assert window == list(sampler.window(t, length))
        assert set(window) <= attached


def test_predict_runs_backbone_once_per_frame():
    model = build_fgfa().eval()
    frames = video(9)
    backbone_calls, motion_calls = count_calls(model.backbone), count_calls(model.motion)
    with torch.no_grad():
        for t, inputs, samples in fix_stride_stream(frames):
            pred = current_pred(model.predict(inputs, samples))
            assert len(pred.bboxes) > 0
            cached = set(model.video_state['frames'])
            assert min(cached) == max(0, t - 2)  # frames older than the window are evicted
    assert backbone_calls == [3, 1, 1, 1, 1, 1, 1]  # frames 0-2, then the new right end
    assert sum(backbone_calls) == len(frames)
    # FlowNet once per step, on the distinct window frames other than the current one
    assert motion_calls == [2, 3, 4, 4, 4, 4, 4, 3, 2]


def test_identical_frames_aggregate_to_the_frame_features():
    """Zero flow and one repeated image: every weight is equal and the output is the input."""
    model = build_fgfa().eval()
    zero_flow(model)
    frames = video(1).expand(6, 3, H, W)
    with torch.no_grad():
        det = det_sample(0, 0, {'ori_video_length': 6}, with_gt=False)
        reference = model.head_predict(model.extract_feat(frames[:1]), [det])[0]
        for _, inputs, samples in fix_stride_stream(frames):
            pred = current_pred(model.predict(inputs, samples))
            torch.testing.assert_close(pred.bboxes, reference.bboxes, atol=1e-3, rtol=1e-4)
            torch.testing.assert_close(pred.scores, reference.scores, atol=1e-4, rtol=1e-4)


def test_missing_window_frame_and_video_reset():
    model = build_fgfa().eval()
    with torch.no_grad():
        window = {'num_left_ref_imgs': 2, 'num_right_ref_imgs': 2, 'frame_stride': 1}
        lone_meta = {'ori_video_length': 5, **window}
        lone = [track_sample([det_sample(0, 0, lone_meta, with_gt=False)], [True])]
        with pytest.raises(ValueError, match=r'frames \[1, 2\]'):
            model.predict(video(1)[None], lone)
        for _, inputs, samples in fix_stride_stream(video(5)):
            model.predict(inputs, samples)
        assert set(model.video_state['frames']) == {2, 3, 4}
        calls = count_calls(model.backbone)
        next_video = fix_stride_stream(video(5, seed=1), video_id=1)
        model.predict(*next(next_video)[1:])
    assert calls == [3]  # a new video: nothing of the previous one is reused
    assert set(model.video_state['frames']) == {0, 1, 2}


def test_toy_config_shares_the_frame_baseline_detector():
    base = load_cfg('toy/frame_baseline_toy.py').model
    fgfa = load_cfg('toy/fgfa_toy.py').model
    for key in ('backbone', 'rpn_head', 'roi_head', 'train_cfg', 'test_cfg'):
        assert fgfa.detector[key] == base[key], key
    assert fgfa.data_preprocessor == base.data_preprocessor
    assert fgfa.aggregator.channels == base.backbone.feat_channels


def test_imagenet_vid_configs_follow_mmtrack():
    cfg = load_cfg('vid/fgfa_r101_dc5.py')
    assert cfg.model.type == 'FGFA' and cfg.model.detector.backbone.depth == 101
    assert cfg.model.aggregator.channels == cfg.model.detector.backbone.feat_channels == 1024
    sampler = cfg.test_dataloader.dataset.pipeline[0]
    assert sampler.method == 'test_with_fix_stride' and sampler.frame_range == [-15, 15]
    train_sampler = cfg.train_dataloader.dataset.datasets[0].pipeline[0]
    assert train_sampler.method == 'bilateral_uniform' and train_sampler.num_ref_imgs == 2
    assert cfg.train_cfg.max_epochs == 7 and cfg.param_scheduler[1].milestones == [2, 5]

"""PSLAVideoDetector built from the toy configs: loss / predict / tensor, schedule, state."""

import pytest
import torch
from psla_test_utils import (
    H,
    W,
    build_model,
    det_sample,
    load_cfg,
    make_stream,
    track_sample,
    train_batch,
)


@pytest.fixture(scope='module')
def model_c():
    return build_model('toy/psla_c_toy.py')


@pytest.mark.parametrize('cfg', ['toy/psla_a_toy.py', 'toy/psla_b_toy.py', 'toy/psla_c_toy.py'])
def test_loss_and_gradients(cfg):
    model = build_model(cfg)
    model.train()
    inputs, samples = train_batch()
    torch.manual_seed(0)
    losses = model(inputs, samples, mode='loss')
    for key in ('loss_rpn_cls', 'loss_rpn_bbox', 'loss_cls', 'loss_bbox'):
        assert key in losses
    total = sum(
        v.sum() if torch.is_tensor(v) else sum(x.sum() for x in v)
        for k, v in losses.items()
        if 'loss' in k
    )
    assert torch.isfinite(total) and total > 0
    total.backward()
    grad = {n: p.grad for n, p in model.named_parameters()}
    # N_l, the Transform Net and the N_f tail (feature conv, via the propagated F_t) learn
    assert grad['backbone.conv1.weight'].abs().sum() > 0
    assert grad['backbone.feat_conv.weight'].abs().sum() > 0
    assert grad['dense_ft.transform_net.0.weight'].abs().sum() > 0
    assert grad['dense_ft.align.query_embed.weight'].abs().sum() > 0
    assert (model.rfu is not None) == ('b_' in cfg or 'c_' in cfg)
    if model.rfu is not None:
        assert grad['rfu.update_net.layers.0.weight'].abs().sum() > 0
    assert (model.dense_ft.quality_net is not None) == ('c_' in cfg)


def test_loss_uses_only_the_labelled_non_key_frame(model_c):
    model_c.train()
    inputs, samples = train_batch(seed=1)
    torch.manual_seed(0)
    ref = model_c.loss(inputs, samples)
    for s in samples:  # ground truth of k1, k2 is ignored
        for i in (0, 1):
            s[i].gt_instances.bboxes = s[i].gt_instances.bboxes * 0 + 1
    torch.manual_seed(0)
    same = model_c.loss(inputs, samples)
    torch.testing.assert_close(ref['loss_cls'], same['loss_cls'])
    # ... while changing the key frames' pixels changes the propagated feature
    inputs2 = inputs.clone()
    inputs2[:, 0] = torch.randn_like(inputs2[:, 0])
    torch.manual_seed(0)
    changed = model_c.loss(inputs2, samples)
    assert not torch.allclose(ref['loss_cls'], changed['loss_cls'])


def _losses(model, inputs, samples):
    torch.manual_seed(0)
    return model.loss(inputs, samples)


def test_key_frame_loss_supervises_f_t_of_k2_only():
    plain = build_model('toy/psla_c_toy.py', key_frame_loss_weight=0.0)
    half = build_model('toy/psla_c_toy.py', key_frame_loss_weight=0.5)
    full = build_model('toy/psla_c_toy.py', key_frame_loss_weight=1.0)
    for model in (plain, half, full):
        model.train()
    inputs, samples = train_batch(seed=2)
    ref, l_half, l_full = (_losses(m, inputs, samples) for m in (plain, half, full))
    assert not any(k.startswith('key_') for k in ref)
    for key in ('loss_rpn_cls', 'loss_rpn_bbox', 'loss_cls', 'loss_bbox'):
        # the non-key frame's losses do not change; the key losses scale with the weight
        torch.testing.assert_close(l_half[key], ref[key])
        key_half, key_full = l_half[f'key_{key}'], l_full[f'key_{key}']
        if isinstance(key_full, list):
            key_half, key_full = torch.stack(key_half), torch.stack(key_full)
        torch.testing.assert_close(key_half, 0.5 * key_full)
    assert l_full['key_loss_cls'] > 0
    # the key loss reads k2's ground truth, never k1's
    moved = [s.clone() for s in samples]
    for s in moved:
        s[0].gt_instances.bboxes = s[0].gt_instances.bboxes * 0 + 1
    torch.testing.assert_close(_losses(half, inputs, moved)['key_loss_cls'], l_half['key_loss_cls'])
    for s in moved:
        s[1].gt_instances.bboxes = s[1].gt_instances.bboxes * 0 + 1
    moved_losses = _losses(half, inputs, moved)
    assert not torch.allclose(moved_losses['key_loss_bbox'], l_half['key_loss_bbox'])


def test_key_frame_loss_trains_the_key_frame_path():
    model = build_model('toy/psla_c_toy.py', key_frame_loss_weight=1.0)
    model.train()
    inputs, samples = train_batch(seed=3)
    losses = _losses(model, inputs, samples)
    losses['key_loss_cls'].backward()
    grads = {n: p.grad for n, p in model.named_parameters()}
    # F_t at k2 = RFU(F_h^k2, F_h^k1): N_f and the Update Net learn, DenseFT does not
    assert grads['backbone.feat_conv.weight'].abs().sum() > 0
    assert grads['rfu.update_net.layers.0.weight'].abs().sum() > 0
    assert grads['dense_ft.transform_net.0.weight'] is None


@pytest.mark.parametrize('weight', [-0.1, float('nan')])
def test_bad_key_frame_loss_weight(weight):
    with pytest.raises(ValueError, match='key_frame_loss_weight'):
        build_model('toy/psla_c_toy.py', key_frame_loss_weight=weight)


def test_mmtrack_key_frame_interval_is_translated_for_unmarked_frames():
    """test_cfg.key_frame_interval (mmtrack) = the streaming schedule; pipeline marks win."""
    test_cfg = dict(load_cfg('toy/psla_c_toy.py').model.test_cfg, key_frame_interval=2)
    model = build_model('toy/psla_c_toy.py', test_cfg=test_cfg).eval()
    frames = torch.randn(5, 3, H, W, generator=torch.Generator().manual_seed(0))
    unmarked = [
        (frames[[i]][None], [track_sample([det_sample(i, 0, with_gt=False)], [True])])
        for i in range(5)
    ]
    translated, _ = _run(model, unmarked)
    assert translated == [(1, 0), (0, 1), (1, 0), (0, 1), (1, 0)]  # == first mode, l = 2
    _, marked = make_stream(length=5, interval=3, mode='first')
    assert _run(model, marked)[0] == [(1, 0), (0, 1), (0, 1), (1, 0), (0, 1)]  # l = 3 wins
    model.test_cfg.pop('key_frame_interval')
    with pytest.raises(ValueError, match='no key-frame marks'):
        _run(model, unmarked[:1])


def test_still_image_training_sample(model_c):
    model_c.train()
    img = torch.randn(1, 1, 3, H, W).expand(1, 3, 3, H, W).contiguous()
    samples = [track_sample([det_sample(0) for _ in range(3)], [False, False, True])]
    losses = model_c(img, samples, mode='loss')
    assert torch.isfinite(losses['loss_cls'])


def test_tensor_mode(model_c):
    model_c.eval()
    inputs, samples = train_batch()
    with torch.no_grad():
        rpn_outs, roi_outs = model_c(inputs, samples, mode='tensor')
    cls_scores, bbox_preds = rpn_outs
    assert cls_scores[0].shape == (2, 9, H // 16, W // 16)  # 3 scales x 3 ratios
    assert roi_outs[0].shape[1] == 4 + 1  # num_classes + background


def _run(model, stream):
    """Predict a stream; return per step (N_f ran?, N_l-only ran?) and results."""
    calls = []
    handle = model.backbone.register_forward_pre_hook(lambda m, a: calls.append('full'))
    orig_low = model.backbone.forward_low

    def low(x):
        calls.append('low')
        return orig_low(x)

    model.backbone.forward_low = low
    steps, results = [], []
    try:
        with torch.no_grad():
            for inputs, samples in stream:
                calls.clear()
                results.append(model.predict(inputs, samples)[0])
                # backbone.forward itself calls forward_low: count N_l-only calls separately
                full = calls.count('full')
                steps.append((full, calls.count('low') - full))
    finally:
        handle.remove()
        del model.backbone.forward_low
    return steps, results


def test_middle_schedule_runs_n_f_on_key_frames_only(model_c):
    model_c.eval()
    _, stream = make_stream(length=7, interval=3, mode='middle')
    steps, results = _run(model_c, stream)
    # segments [0,1,2] [3,4,5] [6], keys 1, 4, 6: key 1 runs (attached) at step 0 with frame 0's
    # N_l; frame 1 reuses the cached F_t; frame 2 is N_l only; ...
    assert steps == [(1, 1), (0, 0), (0, 1), (1, 1), (0, 0), (0, 1), (1, 0)]
    assert model_c.video_state['num_key_frames'] == 3
    for r in results:
        pred = r[r.key_frames_inds[0]].pred_instances
        assert pred.bboxes.shape[1] == 4 and pred.scores.shape == pred.labels.shape


def test_first_mode_streaming(model_c):
    model_c.eval()
    _, stream = make_stream(length=5, interval=2, mode='first')
    steps, _ = _run(model_c, stream)
    assert steps == [(1, 0), (0, 1), (1, 0), (0, 1), (1, 0)]


def test_temporal_feature_is_reset_for_every_video(model_c):
    model_c.eval()
    frames0, stream0 = make_stream(length=4, interval=2, mode='first', video_id=0)
    frames1, stream1 = make_stream(length=4, interval=2, mode='first', video_id=1)
    _run(model_c, stream0)
    assert model_c.video_state['num_key_frames'] == 2
    with torch.no_grad():
        _run(model_c, stream1[:1])
        # first key frame of the new video: F_t = F_h, no RFU mixing with video 0
        expected = model_c.backbone(frames1[:1])
    assert model_c.video_state['num_key_frames'] == 1
    torch.testing.assert_close(model_c.video_state['temporal'], expected)
    # the second key frame of the video does go through RFU
    with torch.no_grad():
        _run(model_c, stream1[1:3])
        f_h = model_c.backbone(frames1[2:3])
    assert not torch.allclose(model_c.video_state['temporal'], f_h)


def test_rfu_off_keeps_the_key_frame_feature():
    model = build_model('toy/psla_a_toy.py').eval()
    frames, stream = make_stream(length=4, interval=2, mode='first')
    _run(model, stream[:3])
    with torch.no_grad():
        torch.testing.assert_close(model.video_state['temporal'], model.backbone(frames[2:3]))


def test_missing_key_frame_raises(model_c):
    model_c.eval()
    _, stream = make_stream(length=7, interval=3, mode='middle', video_id=5)
    _run(model_c, stream[:1])
    # skip to frame 5 (key 4) without having processed key frame 4
    with pytest.raises(RuntimeError, match='key frame 4'):
        _run(model_c, stream[5:6])


def test_predict_rescales_to_the_original_image(model_c):
    model_c.eval()
    img = torch.randn(1, 1, 3, H, W)
    meta = {'key_frame_id': 0, 'is_key_frame': True}
    with torch.no_grad():
        results = []
        for scale in (1.0, 0.5):
            model_c.reset_video_state()
            s = track_sample([det_sample(0, meta=meta, scale=scale, with_gt=False)], [True])
            results.append(model_c.predict(img, [s])[0][0].pred_instances)
    assert len(results[0]) > 0
    torch.testing.assert_close(results[1].bboxes, results[0].bboxes * 2)
    torch.testing.assert_close(results[1].scores, results[0].scores)


def test_predict_batch_is_one_frame_per_video(model_c):
    model_c.eval()
    meta = {'key_frame_id': 0, 'is_key_frame': True}
    samples = [track_sample([det_sample(0, 0, meta)], [True]) for _ in (0, 1)]
    with pytest.raises(ValueError, match='one frame per video'):
        model_c.predict(torch.randn(2, 1, 3, H, W), samples)
    with pytest.raises(ValueError, match='one clip per TrackDataSample'):
        model_c.predict(torch.randn(3, 1, 3, H, W), samples)
    with pytest.raises(ValueError, match='PSLAKeyFrameSchedule'):
        model_c.predict(torch.randn(1, 1, 3, H, W), [track_sample([det_sample(0)], [True])])
    with pytest.raises(ValueError, match='mode'):
        model_c(torch.randn(1, 1, 3, H, W), [], mode='bogus')


def test_key_embedding_of_f_t_is_computed_once_per_key_frame(model_c):
    """f(F_t) is the same for every non-key frame of a key frame: inference embeds F_t once
    (at the first non-key frame after it), and the outputs equal recomputing it each time."""
    model_c.eval()
    _, stream = make_stream(length=7, interval=3, mode='first')
    dense_calls = []
    handle = model_c.dense_ft.align.register_forward_pre_hook(
        lambda m, a, kw: dense_calls.append(kw.get('ref_key') is not None), with_kwargs=True
    )
    orig = model_c.dense_ft.embed_temporal
    embeds = []
    model_c.dense_ft.embed_temporal = lambda t: embeds.append(1) or orig(t)
    try:
        _, cached = _run(model_c, stream)
    finally:
        handle.remove()
        del model_c.dense_ft.embed_temporal
    assert len(embeds) == 2  # non-key frames 1-2 (key 0) and 4-5 (key 3); frame 6 is a key
    assert dense_calls == [True] * 4
    # the same detections as DenseFT embedding F_t itself on every non-key frame
    forward = model_c.dense_ft.forward
    model_c.dense_ft.forward = lambda low, temporal, temporal_key=None: forward(low, temporal)
    try:
        _, plain = _run(model_c, stream)
    finally:
        del model_c.dense_ft.forward
    for a, b in zip(cached, plain):
        pa, pb = a[a.key_frames_inds[0]].pred_instances, b[b.key_frames_inds[0]].pred_instances
        torch.testing.assert_close(pa.bboxes, pb.bboxes)
        torch.testing.assert_close(pa.scores, pb.scores)

"""FrameBaselineDetector: the same N_f + head, frame by frame."""

import torch
from psla_test_utils import H, W, build_model, det_sample, track_sample, train_batch


def test_loss_is_the_head_loss_on_the_labelled_frame():
    model = build_model('toy/frame_baseline_toy.py').train()
    inputs, samples = train_batch()
    torch.manual_seed(0)
    losses = model(inputs, samples, mode='loss')
    torch.manual_seed(0)
    expected = model.head_loss(model.backbone(inputs[:, 2]), [s[2] for s in samples])
    for key in ('loss_rpn_cls', 'loss_cls', 'loss_bbox'):
        torch.testing.assert_close(losses[key], expected[key])
    sum(v for k, v in losses.items() if k in ('loss_cls', 'loss_bbox')).backward()
    assert model.backbone.conv1.weight.grad.abs().sum() > 0


def test_predict_ignores_attached_key_frames_and_accepts_batches():
    model = build_model('toy/frame_baseline_toy.py').eval()
    key, cur = torch.randn(1, 3, H, W), torch.randn(1, 3, H, W)
    meta = {'key_frame_id': 1, 'is_key_frame': False}
    pair = track_sample([det_sample(1, meta=meta), det_sample(0, meta=meta)], [False, True])
    single = track_sample([det_sample(0, meta=meta)], [True])
    with torch.no_grad():
        a = model.predict(torch.stack([key, cur], 1), [pair])[0][1].pred_instances
        b = model.predict(cur[:, None], [single])[0][0].pred_instances
        batch = model.predict(
            torch.stack([cur, cur], 0),
            [track_sample([det_sample(0, v)], [True]) for v in (0, 1)],
        )
    assert len(a) > 0
    torch.testing.assert_close(a.bboxes, b.bboxes)
    torch.testing.assert_close(batch[1][0].pred_instances.scores, b.scores)
    rpn_outs, _ = model(cur[:, None], [single], mode='tensor')
    assert rpn_outs[0][0].shape == (1, 9, H // 16, W // 16)


def test_same_backbone_and_head_as_psla():
    base = build_model('toy/frame_baseline_toy.py')
    psla = build_model('toy/psla_c_toy.py')
    base_keys = set(base.state_dict())
    psla_keys = set(psla.state_dict())
    assert base_keys < psla_keys
    extra = {k.split('.')[0] for k in psla_keys - base_keys}
    assert extra == {'rfu', 'dense_ft'}

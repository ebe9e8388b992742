"""DFF: training on [key, target] pairs, the streaming key-frame schedule, video state."""

import pytest
import torch
from psla_test_utils import H, W, build_model, det_sample, load_cfg, track_sample

from mmpsla.models.motion import flow_warp_feats


def count_calls(module):
    """Record the batch size of every forward call of ``module`` (a hook on the real module)."""
    calls = []
    module.register_forward_pre_hook(lambda m, args: calls.append(args[0].shape[0]))
    return calls


def zero_flow(model):
    """Make FlowNet predict exactly zero flow (its last layer has no bias)."""
    with torch.no_grad():
        model.motion.predict_flow.conv.weight.zero_()


def pair_batch(batch=2, same_image=False, seed=0):
    """(inputs (N, 2, 3, H, W), samples): [key frame 3, target frame 7] of each video."""
    g = torch.Generator().manual_seed(seed)
    inputs = torch.randn(batch, 2, 3, H, W, generator=g)
    samples = []
    for b in range(batch):
        ref = det_sample(7 if same_image else 3, video_id=b)
        samples.append(track_sample([ref, det_sample(7, video_id=b)], [False, True]))
    return inputs, samples


def stream(length, video_id=0, start=0, seed=0):
    """Frames of a synthetic video as 1-frame test samples (what the test pipeline packs)."""
    g = torch.Generator().manual_seed(seed + video_id)
    frames = torch.randn(length, 3, H, W, generator=g)
    for i in range(start, length):
        meta = {'ori_video_length': length}
        sample = det_sample(i, video_id, meta, scale=0.5, with_gt=False)
        yield i, frames[i][None, None], [track_sample([sample], [True])]


def test_loss_warps_key_features_and_trains_flownet():
    model = build_model('toy/dff_toy.py')
    model.train()
    inputs, samples = pair_batch()
    losses = model.loss(inputs, samples)
    for key in ('loss_rpn_cls', 'loss_rpn_bbox', 'loss_cls', 'loss_bbox'):
        assert key in losses
    total, _ = model.parse_losses(losses)
    assert torch.isfinite(total)
    total.backward()
    # end to end: the target's loss reaches FlowNet through the warp and N_f of the key frame
    assert model.motion.predict_flow.conv.weight.grad.abs().sum() > 0
    assert model.motion.conv1[0].conv.weight.grad.abs().sum() > 0
    assert model.backbone.feat_conv.weight.grad.abs().sum() > 0

    # the target's features are the key frame's features warped by FlowNet(target, key)
    model.eval()
    with torch.no_grad():
        feat, targets = model._train_feat(inputs, samples)
        key_feat = model.extract_feat(inputs[:, 0])
        flow = model.compute_flow(inputs[:, 1], inputs[:, 0], [s[1].metainfo for s in samples])
    assert [t.frame_id for t in targets] == [7, 7]
    assert flow.abs().max() > 0
    torch.testing.assert_close(feat, flow_warp_feats(key_feat, flow))
    assert not torch.allclose(feat, key_feat)


def test_still_image_pair_uses_unwarped_features():
    model = build_model('toy/dff_toy.py').eval()
    inputs, samples = pair_batch(same_image=True)
    with torch.no_grad():
        feat, _ = model._train_feat(inputs, samples)
        torch.testing.assert_close(feat, model.extract_feat(inputs[:, 0]))


def test_tensor_mode_and_bad_pairs():
    model = build_model('toy/dff_toy.py').eval()
    inputs, samples = pair_batch(batch=1)
    with torch.no_grad():
        rpn_outs, roi_outs = model(inputs, samples, mode='tensor')
    assert rpn_outs[0][0].shape[-2:] == (H // 16, W // 16)
    three = torch.randn(1, 3, 3, H, W)
    bad = [track_sample([det_sample(i) for i in (0, 1, 2)], [False, False, True])]
    with pytest.raises(ValueError, match='exactly 1 reference'):
        model.loss(three, bad)


def test_predict_runs_backbone_on_key_frames_only():
    model = build_model('toy/dff_toy.py').eval()
    assert model.test_cfg.key_frame_interval == 10  # translated: frames carry no marks here
    backbone_calls, motion_calls = count_calls(model.backbone), count_calls(model.motion)
    full = []
    with torch.no_grad():
        for i, inputs, samples in stream(23):
            before = len(backbone_calls)
            out = model.predict(inputs, samples)
            if len(backbone_calls) > before:
                full.append(i)
            pred = out[0][0].pred_instances
            assert len(pred.bboxes) == len(pred.scores) == len(pred.labels) > 0
            # boxes are in original-image coordinates (2x the input frame)
            assert pred.bboxes[:, 2].max() <= 2 * W and pred.bboxes[:, 3].max() <= 2 * H
    assert full == [0, 10, 20]  # the first frame of each segment, no look-ahead
    assert backbone_calls == [1, 1, 1]
    assert len(motion_calls) == 20  # every other frame: FlowNet + warp only
    assert model.video_state['key_frame_id'] == 20


def marked_stream(length, interval, mode, seed=0):
    """Frames packed by PSLAKeyFrameSchedule: marks in the metainfo, key frames ahead attached."""
    from mmpsla.datasets.transforms.base_vid_frame_sample import segment_key_frame

    g = torch.Generator().manual_seed(seed)
    frames = torch.randn(length, 3, H, W, generator=g)
    for i in range(length):
        start, key = segment_key_frame(i, length, interval, mode)
        inds = [key, i] if i == start and key > i else [i]
        dets = [
            det_sample(j, 0, {'ori_video_length': length, 'key_frame_id': key,
                              'is_key_frame': j == key}, scale=0.5, with_gt=False)
            for j in inds
        ]  # fmt: skip
        flags = [False] * (len(inds) - 1) + [True]
        yield i, frames[inds][None], [track_sample(dets, flags)]


@pytest.mark.parametrize('mode', ['first', 'middle'])
def test_pipeline_marks_decide_the_key_frames(mode):
    """DFF follows the pipeline's schedule (the contract); 'middle' is DFF* (PSLA Table 4)."""
    model = build_model('toy/dff_toy.py').eval()  # test_cfg says 10: the marks win
    zero_flow(model)
    calls = count_calls(model.backbone)
    full, preds = [], {}
    with torch.no_grad():
        for i, inputs, samples in marked_stream(9, 4, mode):
            before = len(calls)
            preds[i] = model.predict(inputs, samples)[0]
            preds[i] = preds[i][preds[i].key_frames_inds[0]].pred_instances
            if len(calls) > before:
                full.append(i)
    keys = {'first': [0, 4, 8], 'middle': [2, 6, 8]}[mode]
    assert full == [0, 4, 8]  # N_f once per segment, when its first frame arrives
    assert len(calls) == 3
    # with zero flow every frame of a segment shows its key frame's detections
    for i in range(9):
        key = keys[i // 4]
        torch.testing.assert_close(preds[i].scores, preds[key].scores)
    assert not torch.equal(preds[keys[0]].scores, preds[keys[1]].scores)


def test_frames_without_marks_need_test_cfg_interval():
    model = build_model('toy/dff_toy.py', test_cfg=dict(key_frame_interval=None)).eval()
    _, inputs, samples = next(stream(2))
    with pytest.raises(ValueError, match='no key-frame marks'):
        model.predict(inputs, samples)


def test_non_key_frames_reuse_cached_key_features():
    model = build_model('toy/dff_toy.py').eval()
    zero_flow(model)  # the warp is then the identity: non-key = key frame's detections
    preds = {}
    with torch.no_grad():
        for i, inputs, samples in stream(12):
            preds[i] = model.predict(inputs, samples)[0][0].pred_instances
    for i in range(1, 10):
        torch.testing.assert_close(preds[i].bboxes, preds[0].bboxes)
        torch.testing.assert_close(preds[i].scores, preds[0].scores)
    assert not torch.equal(preds[10].scores, preds[0].scores)  # new key frame, new features


def test_state_reset_between_videos():
    model = build_model('toy/dff_toy.py').eval()
    calls = count_calls(model.backbone)
    full = []
    runs = [(0, 0), (1, 0), (2, 3)]  # (video, first frame): video 2 starts mid-video
    with torch.no_grad():
        for video_id, start in runs:
            for i, inputs, samples in stream(6, video_id=video_id, start=start):
                before = len(calls)
                model.predict(inputs, samples)
                if len(calls) > before:
                    full.append((video_id, i))
            assert model.video_state['key_frame_id'] == start
    # a new video never warps the previous video's key frame
    assert full == [(0, 0), (1, 0), (2, 3)]
    model.reset_video_state()
    assert model.video_state == {}


def test_frozen_modules_and_config_fields():
    model = build_model('toy/dff_toy.py', frozen_modules=['motion', 'detector.rpn_head'])
    model.train()
    assert not any(p.requires_grad for p in model.motion.parameters())
    assert not any(p.requires_grad for p in model.rpn_head.parameters())
    assert not model.motion.training and not model.rpn_head.training
    assert model.backbone.training and all(p.requires_grad for p in model.roi_head.parameters())
    with pytest.raises(ValueError, match='no module'):
        build_model('toy/dff_toy.py', frozen_modules='flownet')
    cfg = load_cfg('toy/dff_toy.py').model
    cfg.detector.pop('roi_head')
    from mmdet.registry import MODELS

    with pytest.raises(ValueError, match='roi_head'):
        MODELS.build(cfg)


def test_toy_config_shares_the_frame_baseline_detector():
    """Fair comparison: DFF's N_f, head and data preprocessing equal the frame baseline's."""
    base = load_cfg('toy/frame_baseline_toy.py').model
    dff = load_cfg('toy/dff_toy.py').model
    for key in ('backbone', 'rpn_head', 'roi_head', 'train_cfg', 'test_cfg'):
        assert dff.detector[key] == base[key], key
    assert dff.data_preprocessor == base.data_preprocessor
    assert dff.test_cfg.key_frame_interval == 10
    assert dff.motion.img_scale_factor == 0.5


def test_imagenet_vid_configs_follow_mmtrack():
    cfg = load_cfg('vid/dff_r101_dc5.py')
    assert cfg.model.type == 'DFF' and cfg.model.detector.backbone.depth == 101
    assert cfg.model.motion.img_scale_factor == 0.5
    assert cfg.model.test_cfg.key_frame_interval == 10
    assert cfg.train_cfg.max_epochs == 7 and cfg.optim_wrapper.optimizer.lr == 0.01
    assert cfg.param_scheduler[1].milestones == [2, 5]
    assert cfg.val_dataloader.dataset.pipeline[0].method == 'test_key_frame_interval'
    from mmdet.registry import MODELS

    model = MODELS.build(load_cfg('vid/dff_r50_dc5.py').model)  # no weights are loaded
    # mmtrack's DFF overrides, merged into the shared head's train_cfg
    assert model.train_cfg.rpn_proposal.max_per_img == 1000
    assert model.roi_head.bbox_sampler.num == 512
    assert model.roi_head.train_cfg.assigner.pos_iou_thr == 0.5  # the rest is kept
    assert sum(p.numel() for p in model.motion.parameters()) == 38_675_536

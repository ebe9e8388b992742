"""SELSA: box head with proposal aggregation, training on clips, cached test references."""

import pytest
import torch
from psla_test_utils import H, W, build_model, det_sample, load_cfg, track_sample

from mmpsla.datasets.transforms import VIDRefFrameSample


def clip_batch(batch=2, seed=0):
    """(inputs (N, 3, 3, H, W), samples): refs [2, 9] and target 5 of each video."""
    g = torch.Generator().manual_seed(seed)
    inputs = torch.randn(batch, 3, 3, H, W, generator=g)
    samples = [
        track_sample([det_sample(f, video_id=b) for f in (2, 9, 5)], [False, False, True])
        for b in range(batch)
    ]
    return inputs, samples


def adaptive_stream(length, num_refs=4, video_id=0, seed=0):
    """Test samples as VIDRefFrameSample('test_with_adaptive_stride') packs them."""
    g = torch.Generator().manual_seed(seed + video_id)
    frames = torch.randn(length, 3, H, W, generator=g)
    sampler = VIDRefFrameSample(method='test_with_adaptive_stride', num_ref_imgs=num_refs)
    for i in range(length):
        inds = sampler.sample_refs(i, length) + [i]
        dets = [det_sample(j, video_id, {'ori_video_length': length}, with_gt=False) for j in inds]
        yield (
            i,
            inds,
            frames,
            frames[inds][None],
            [track_sample(dets, [False] * (len(inds) - 1) + [True])],
        )


def count_calls(module):
    calls = []
    module.register_forward_pre_hook(lambda m, args: calls.append(args[0].shape[0]))
    return calls


@pytest.fixture(scope='module')
def selsa():
    return build_model('toy/selsa_toy.py')


def test_loss_reaches_aggregators_and_backbone(selsa):
    selsa.train()
    selsa.zero_grad()
    inputs, samples = clip_batch()
    losses = selsa.loss(inputs, samples)
    for key in ('loss_rpn_cls', 'loss_rpn_bbox', 'loss_cls', 'loss_bbox', 'acc'):
        assert key in losses
    total, _ = selsa.parse_losses(losses)
    assert torch.isfinite(total)
    total.backward()
    for agg in selsa.roi_head.bbox_head.aggregator:
        assert agg.fc.weight.grad.abs().sum() > 0
        assert agg.ref_fc_embed.weight.grad.abs().sum() > 0
    # the reference frames' features feed the aggregation: N_f gets their gradient too
    assert selsa.backbone.feat_conv.weight.grad.abs().sum() > 0


def test_references_change_the_scores(selsa):
    """The same key RoIs scored against two different reference sets differ."""
    selsa.eval()
    head = selsa.roi_head
    torch.manual_seed(0)
    x = torch.randn(1, 128, 4, 6)
    props = [det_sample(0, with_gt=False)]
    rois = torch.tensor([[0.0, 4, 4, 40, 40], [0.0, 30, 10, 90, 60]])
    from mmengine.structures import InstanceData

    ref_props = [InstanceData(bboxes=torch.tensor([[2.0, 2, 30, 30], [20, 20, 60, 60]]))]
    outs = []
    for seed in (1, 2):
        torch.manual_seed(seed)
        ref_x = torch.randn(1, 128, 4, 6)
        with torch.no_grad(), head._references((ref_x,), ref_props):
            outs.append(head._bbox_forward((x,), rois)['cls_score'])
    assert outs[0].shape == (2, 5)
    assert not torch.allclose(outs[0], outs[1])
    del props
    with pytest.raises(RuntimeError, match='reference'):
        head._bbox_forward((x,), rois)


def test_predict_caches_frames_and_matches_recomputation(selsa):
    """N_f once per frame; frame t's references = the first frame's 4 refs + t itself."""
    selsa.eval()
    calls = count_calls(selsa.backbone)
    results = {}
    with torch.no_grad():
        for i, _, frames, inputs, samples in adaptive_stream(7):
            out = selsa.predict(inputs, samples)[0]
            results[i] = out[out.key_frames_inds[0]].pred_instances
            all_frames = frames
    assert calls == [4, 1, 1, 1]  # refs 0, 2, 4, 6 (with frame 0), then frames 1, 3, 5
    assert selsa.video_state['ref_ids'] == [0, 2, 4, 6]
    # frame 3 recomputed from scratch: same references, same detections
    with torch.no_grad():
        ids = [0, 2, 4, 6, 3]
        feats = selsa.extract_feat(all_frames[ids])
        metas = [det_sample(j, 0, with_gt=False) for j in ids]
        props = selsa.rpn_head.predict((feats,), metas, rescale=False)
        expected = selsa.roi_head.predict(
            (feats[-1:],), (feats,), [props[-1]], props, [metas[-1]], rescale=True
        )[0]
    torch.testing.assert_close(results[3].bboxes, expected.bboxes)
    torch.testing.assert_close(results[3].scores, expected.scores)


def test_first_frame_without_references_raises(selsa):
    selsa.eval()
    selsa.reset_video_state()
    sample = [track_sample([det_sample(0, 5, {'ori_video_length': 3}, with_gt=False)], [True])]
    with pytest.raises(ValueError, match='test_with_adaptive_stride'):
        selsa.predict(torch.randn(1, 1, 3, H, W), sample)


def test_toy_config_shares_the_frame_baseline_parts():
    base = load_cfg('toy/frame_baseline_toy.py').model
    selsa = load_cfg('toy/selsa_toy.py').model
    for key in ('backbone', 'rpn_head', 'train_cfg', 'test_cfg'):
        assert selsa.detector[key] == base[key], key
    assert selsa.detector.roi_head.bbox_roi_extractor == base.roi_head.bbox_roi_extractor
    head = selsa.detector.roi_head.bbox_head
    for key in ('bbox_coder', 'loss_cls', 'loss_bbox', 'num_classes', 'fc_out_channels'):
        assert head[key] == base.roi_head.bbox_head[key], key
    assert selsa.data_preprocessor == base.data_preprocessor


def test_adaptive_stride_sampler():
    sampler = VIDRefFrameSample(method='test_with_adaptive_stride', num_ref_imgs=14)
    assert sampler.sample_refs(0, 100) == [round(j * 99 / 13) for j in range(14)]
    assert sampler.sample_refs(0, 100)[-1] == 99
    assert sampler.sample_refs(5, 100) == []
    assert sampler.sample_refs(0, 3) == [0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2]
    one = VIDRefFrameSample(method='test_with_adaptive_stride', num_ref_imgs=1)
    assert one.sample_refs(0, 10) == [0]

"""Temporal RoI Align: most-similar-point gathering, temporal attention, SELSA with TRoI."""

import pytest
import torch
from psla_test_utils import build_model
from test_selsa import adaptive_stream, clip_batch

from mmpsla.models.roi_heads import TemporalRoIAlign


def extractor(**kwargs):
    cfg = dict(
        roi_layer=dict(type='RoIAlign', output_size=2, sampling_ratio=0),
        out_channels=12,
        featmap_strides=[1],
    )
    cfg.update(kwargs)
    return TemporalRoIAlign(**cfg)


def test_most_similar_points_are_found_and_weighted():
    """One-hot reference features: RoI point p ~ e_l picks location l (cos = 1) first."""
    tra = extractor(num_most_similar_points=1)
    ref = torch.eye(12).view(12, 3, 4)[None] * 3.0  # (1, C=12, 3, 4): location l holds 3 e_l
    locs = torch.tensor([5, 0, 11, 7])
    roi_feats = torch.eye(12)[locs].view(1, 2, 2, 12).permute(0, 3, 1, 2)  # (1, 12, 2, 2)
    out = tra.most_similar_roi_align(roi_feats, ref)
    assert out.shape == (1, 1, 12, 2, 2)
    torch.testing.assert_close(out[0], 3.0 * roi_feats)
    # K = 2: the exact match (cos 1) and a tie of cos 0 points, softmax-weighted
    tra2 = extractor(num_most_similar_points=2)
    out2 = tra2.most_similar_roi_align(roi_feats, ref)[0]
    w = torch.softmax(torch.tensor([1.0, 0.0]), 0)
    torch.testing.assert_close((out2 * roi_feats).sum(1), torch.full((1, 2, 2), 3.0 * w[0].item()))
    torch.testing.assert_close(out2.sum(1), torch.full((1, 2, 2), 3.0))


def test_temporal_attention_and_mean():
    torch.manual_seed(0)
    x, ref = torch.randn(1, 3, 12, 2, 2), torch.randn(4, 3, 12, 2, 2)
    mean = extractor(num_temporal_attention_blocks=0)
    feats = (torch.rand(1, 12, 6, 6),)
    rois = torch.tensor([[0.0, 0, 0, 4, 4]])
    plain = mean(feats, rois)
    ref_maps = (torch.rand(2, 12, 6, 6),)
    out = mean(feats, rois, ref_feats=ref_maps)
    expected = torch.cat((plain[None], mean.most_similar_roi_align(plain, ref_maps[0]))).mean(0)
    torch.testing.assert_close(out, expected)
    att = extractor(num_temporal_attention_blocks=4)
    with torch.no_grad():
        att.embed_network.conv.weight.zero_()
        att.embed_network.conv.bias.zero_()
    # zero embeddings -> equal weights: the attention is the mean over the 5 frames
    torch.testing.assert_close(
        att.temporal_attentional_feature_aggregation(x, ref), torch.cat((x, ref)).mean(0)
    )
    torch.nn.init.normal_(att.embed_network.conv.weight)
    agg = att.temporal_attentional_feature_aggregation(x, ref)
    assert agg.shape == (3, 12, 2, 2) and not torch.allclose(agg, torch.cat((x, ref)).mean(0))
    # without references the RoI features are plain RoI Align
    torch.testing.assert_close(att(feats, rois), plain)
    with pytest.raises(ValueError, match='divide'):
        extractor(num_temporal_attention_blocks=5)


def test_troialign_toy_trains_and_predicts():
    model = build_model('toy/selsa_troialign_toy.py')
    assert isinstance(model.roi_head.bbox_roi_extractor, TemporalRoIAlign)
    model.train()
    losses = model.loss(*clip_batch())
    total, _ = model.parse_losses(losses)
    total.backward()
    assert model.roi_head.bbox_roi_extractor.embed_network.conv.weight.grad.abs().sum() > 0
    model.eval()
    with torch.no_grad():
        for _, _, _, inputs, samples in adaptive_stream(4, num_refs=3):
            out = model.predict(inputs, samples)[0]
            pred = out[out.key_frames_inds[0]].pred_instances
            assert pred.bboxes.shape[1] == 4 and len(pred.scores) == len(pred.labels)

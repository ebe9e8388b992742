"""RFCNBBoxHead / RFCNRoIHead: shapes, voting, errors, toy-model loss and predict, model size."""

import sys
from pathlib import Path

import pytest
import torch
from mmdet.registry import MODELS
from mmengine.registry import init_default_scope

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / 'test_detectors'))
from psla_test_utils import (  # noqa: E402
    H,
    W,
    build_model,
    det_sample,
    track_sample,
    train_batch,
)

from mmpsla.models.roi_heads import PSRoIAlign, RFCNBBoxHead, RFCNRoIHead  # noqa: E402


def _bbox_head(**kwargs) -> RFCNBBoxHead:
    cfg = dict(type='RFCNBBoxHead', in_channels=16, roi_feat_size=3, num_classes=4)
    cfg.update(kwargs)
    init_default_scope('mmdet')
    torch.manual_seed(0)
    head = MODELS.build(cfg)
    head.init_weights()
    return head


def _rois():
    return torch.tensor([[0, 4.0, 4.0, 60.0, 40.0], [1, 10.0, 0.0, 90.0, 63.0], [1, 0, 0, 16, 16]])


def test_bbox_head_shapes_and_voting():
    head = _bbox_head()
    x = torch.randn(2, 16, 4, 6)
    cls_score, bbox_pred = head(x, _rois())
    assert cls_score.shape == (3, 5) and bbox_pred.shape == (3, 4)
    assert head.conv_cls.out_channels == 9 * 5 and head.conv_reg.out_channels == 9 * 4
    # voting = mean over the k x k position-sensitive bins
    ps = PSRoIAlign(3, 1 / 16, 2)
    torch.testing.assert_close(cls_score, ps(head.conv_cls(x), _rois()).mean(dim=(2, 3)))
    torch.testing.assert_close(bbox_pred, ps(head.conv_reg(x), _rois()).mean(dim=(2, 3)))
    assert not hasattr(head, 'fc_cls') and not hasattr(head, 'fc_reg')


def test_sum_vote_is_k_squared_times_the_mean_vote():
    mean_head, sum_head = _bbox_head(), _bbox_head(vote='sum')
    sum_head.load_state_dict(mean_head.state_dict())
    x = torch.randn(2, 16, 4, 6)
    for mean_out, sum_out in zip(mean_head(x, _rois()), sum_head(x, _rois())):
        torch.testing.assert_close(sum_out, 9 * mean_out)
    with pytest.raises(ValueError, match="vote must be 'mean' or 'sum'"):
        _bbox_head(vote='max')


@pytest.mark.parametrize('vote', ['mean', 'sum'])
def test_roi_bias_is_the_vote_of_equal_bin_biases(vote):
    # bias='roi': one bias per output after the vote; the same detector as per-bin biases
    # that all equal it (mean vote) or it / k*k (sum vote), on RoIs inside the map
    bin_head, roi_head = _bbox_head(vote=vote), _bbox_head(vote=vote, bias='roi')
    assert roi_head.conv_cls.bias is None and roi_head.conv_reg.bias is None
    assert roi_head.cls_bias.shape == (5,) and roi_head.reg_bias.shape == (4,)
    assert roi_head.cls_bias.abs().max() == 0 and roi_head.reg_bias.abs().max() == 0
    cls_b, reg_b = torch.randn(5), torch.randn(4)
    with torch.no_grad():
        roi_head.conv_cls.weight.copy_(bin_head.conv_cls.weight)
        roi_head.conv_reg.weight.copy_(bin_head.conv_reg.weight)
        roi_head.cls_bias.copy_(cls_b)
        roi_head.reg_bias.copy_(reg_b)
        scale = 9 if vote == 'sum' else 1
        # conv channel = bin * cls_channels + class (PSRoIAlign's grouping)
        bin_head.conv_cls.bias.copy_(cls_b.repeat(9) / scale)
        bin_head.conv_reg.bias.copy_(reg_b.repeat(9) / scale)
    x = torch.randn(2, 16, 4, 6)
    for bin_out, roi_out in zip(bin_head(x, _rois()), roi_head(x, _rois())):
        torch.testing.assert_close(roi_out, bin_out)
    # each output bias gets the gradient of its output, summed over the RoIs
    cls_score, _ = roi_head(x, _rois())
    cls_score[:, 2].sum().backward()
    torch.testing.assert_close(roi_head.cls_bias.grad, torch.tensor([0, 0, 3.0, 0, 0]))
    assert sum(p.numel() for p in roi_head.parameters()) == sum(
        p.numel() for p in bin_head.parameters()
    ) - 9 * (5 + 4) + (5 + 4)
    with pytest.raises(ValueError, match="bias must be 'bin' or 'roi'"):
        _bbox_head(bias='class')


def test_bbox_head_init_and_per_class_regression():
    head = _bbox_head(in_channels=256, roi_feat_size=7, num_classes=30)
    for conv in (head.conv_cls, head.conv_reg):
        assert conv.bias.abs().max() == 0
        assert 0.008 < conv.weight.std().item() < 0.012
    per_class = _bbox_head(reg_class_agnostic=False)
    assert per_class.conv_reg.out_channels == 9 * 4 * 4
    assert per_class(torch.randn(2, 16, 4, 6), _rois())[1].shape == (3, 16)


def test_errors():
    head = _bbox_head()
    with pytest.raises(ValueError, match='channels'):
        head(torch.randn(2, 8, 4, 6), _rois())
    with pytest.raises(ValueError, match='does not take'):
        _bbox_head(with_avg_pool=True)
    init_default_scope('mmdet')
    bbox_head = dict(type='RFCNBBoxHead', in_channels=16, roi_feat_size=3, num_classes=4)
    roi_head = MODELS.build(dict(type='RFCNRoIHead', bbox_head=bbox_head))
    assert roi_head.bbox_roi_extractor is None and roi_head.with_bbox and not roi_head.with_mask
    feat = torch.randn(2, 16, 4, 6)
    with pytest.raises(ValueError, match='single-level'):
        roi_head._bbox_forward((feat, feat), _rois())
    with pytest.raises(ValueError, match='bbox_roi_extractor'):
        MODELS.build(
            dict(type='RFCNRoIHead', bbox_head=bbox_head, bbox_roi_extractor=dict(type='X'))
        )
    with pytest.raises(ValueError, match='mask_head'):
        RFCNRoIHead(bbox_head=bbox_head, mask_head=dict(type='FCNMaskHead'))


@pytest.fixture(scope='module')
def toy_model():
    return build_model('toy/psla_c_rfcn_toy.py')


def test_toy_model_loss_and_backward(toy_model):
    assert isinstance(toy_model.roi_head, RFCNRoIHead)
    toy_model.train()
    toy_model.zero_grad()
    inputs, samples = train_batch(batch=1)
    torch.manual_seed(0)
    losses = toy_model(inputs, samples, mode='loss')
    for key in ('loss_cls', 'loss_bbox', 'acc'):
        assert key in losses
    assert torch.isfinite(losses['loss_cls']) and losses['loss_cls'] > 0
    assert torch.isfinite(losses['loss_bbox']) and losses['loss_bbox'] > 0
    total = sum(
        v.sum() if torch.is_tensor(v) else sum(x.sum() for x in v)
        for k, v in losses.items()
        if 'loss' in k
    )
    total.backward()
    head = toy_model.roi_head.bbox_head
    assert head.conv_cls.weight.grad.abs().sum() > 0
    assert head.conv_reg.weight.grad.abs().sum() > 0
    assert toy_model.backbone.conv1.weight.grad.abs().sum() > 0


def test_toy_model_predict_and_tensor(toy_model):
    toy_model.eval()
    meta = {'key_frame_id': 0, 'is_key_frame': True}
    img = torch.randn(1, 1, 3, H, W, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        toy_model.reset_video_state()
        sample = track_sample([det_sample(0, meta=meta, with_gt=False)], [True])
        pred = toy_model.predict(img, [sample])[0][0].pred_instances
    assert len(pred) > 0 and pred.bboxes.shape[1] == 4
    assert ((pred.labels >= 0) & (pred.labels < 4)).all()
    assert ((pred.scores > 0) & (pred.scores <= 1)).all()
    feat = torch.randn(1, 128, H // 16, W // 16)
    rois = torch.tensor([[0, 4.0, 4.0, 60.0, 40.0]])
    result = toy_model.roi_head._bbox_forward((feat,), rois)
    assert result['cls_score'].shape == (1, 5) and result['bbox_pred'].shape == (1, 4)


def test_channel_layout_on_a_hand_made_map():
    """Each bin of the RoI reads its own channel group: a map that is 1 only where bin (i, j)
    lies, in group (i, j)'s channel of class 2, gives class 2 a score of 1 (every bin votes
    for it); the same values put in a class-major layout ((c * k + i) * k + j) do not."""
    k, classes, stride = 3, 4, 4
    head = _bbox_head(in_channels=k * k * (classes + 1), roi_feat_size=k, featmap_stride=stride)
    with torch.no_grad():  # the score map equals the input feature map
        head.conv_cls.weight.copy_(torch.eye(k * k * (classes + 1)).view(-1, k * k * 5, 1, 1))
        head.conv_cls.bias.zero_()
    roi = torch.tensor([[0, 8.0, 4.0, 44.0, 40.0]])  # map box [2, 11) x [1, 10): 3 px per bin
    x = torch.zeros(1, k * k * (classes + 1), 16, 16)
    for i in range(k):
        for j in range(k):
            x[0, (i * k + j) * (classes + 1) + 2, 1 + 3 * i : 4 + 3 * i, 2 + 3 * j : 5 + 3 * j] = 1
    bins = head.ps_roi_align(head.conv_cls(x), roi)
    expected = torch.zeros(1, classes + 1, k, k)
    expected[0, 2] = 1.0
    torch.testing.assert_close(bins, expected)
    cls_score, _ = head(x, roi)
    torch.testing.assert_close(cls_score, torch.tensor([[0.0, 0.0, 1.0, 0.0, 0.0]]))
    # class-major placement of the same evidence is read as a different, spread-out score
    x_cm = torch.zeros_like(x)
    for i in range(k):
        for j in range(k):
            x_cm[0, (2 * k + i) * k + j, 1 + 3 * i : 4 + 3 * i, 2 + 3 * j : 5 + 3 * j] = 1
    assert head(x_cm, roi)[0][0, 2] < 0.5


def test_feat_slice_reads_its_channels_only():
    head = _bbox_head(in_channels=16, feat_slice=(8, 16))
    assert head.conv_cls.in_channels == 8
    x = torch.randn(2, 16, 4, 6)
    out = head(x, _rois())
    x2 = x.clone()
    x2[:, :8] = torch.randn(2, 8, 4, 6)  # the RPN's half does not matter
    torch.testing.assert_close(head(x2, _rois()), out)
    with pytest.raises(ValueError, match='feat_slice'):
        _bbox_head(in_channels=16, feat_slice=(8, 20))


def test_deformable_head_matches_the_pooling_it_composes():
    head = _bbox_head(deformable=True, sample_per_part=2)
    assert head.conv_cls_offset.out_channels == 9 * 2 * 5
    assert head.conv_reg_offset.out_channels == 9 * 2
    # offsets start at zero (published initialisation)
    assert head.conv_cls_offset.weight.abs().max() == 0
    torch.nn.init.normal_(head.conv_cls_offset.weight, std=0.1)
    torch.nn.init.normal_(head.conv_reg_offset.weight, std=0.1)
    x = torch.randn(2, 16, 4, 6)
    pool = head.ps_roi_pool
    cls_off = pool(head.conv_cls_offset(x), _rois())
    reg_off = pool(head.conv_reg_offset(x), _rois())
    assert cls_off.shape == (3, 10, 3, 3) and reg_off.shape == (3, 2, 3, 3)
    cls_score, bbox_pred = head(x, _rois())
    torch.testing.assert_close(cls_score, pool(head.conv_cls(x), _rois(), cls_off).mean(dim=(2, 3)))
    torch.testing.assert_close(bbox_pred, pool(head.conv_reg(x), _rois(), reg_off).mean(dim=(2, 3)))
    cls_score.sum().backward()
    assert head.conv_cls_offset.weight.grad.abs().sum() > 0

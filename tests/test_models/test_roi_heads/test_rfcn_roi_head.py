"""RFCNBBoxHead / RFCNRoIHead: shapes, voting, errors, toy-model loss and predict, model size."""

import sys
from pathlib import Path

import pytest
import torch
from mmdet.registry import MODELS
from mmengine.registry import init_default_scope

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / 'test_detectors'))
from psla_test_utils import (  # noqa: E402
    ROOT,
    H,
    W,
    build_model,
    det_sample,
    track_sample,
    train_batch,
)

from mmpsla.apis import count_parameters, init_model  # noqa: E402
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


def test_r101_rfcn_size():
    base = ROOT + '/configs/vid/'
    model = init_model(base + 'psla_r101_rfcn.py')
    head = count_parameters(model.roi_head)
    k, channels, classes = 7, 1024, 30
    assert head == (channels + 1) * k * k * (classes + 1 + 4) == 1_757_875
    total = count_parameters(model)
    # the same model with the Faster R-CNN head (two FCs 7x7x1024 -> 1024 -> 1024, cls, reg)
    faster_head = (49 * 1024 + 1) * 1024 + 1025 * 1024 + 1025 * 31 + 1025 * 4
    assert total == 123_977_987 - faster_head + head == 73_269_139
    assert total < 0.6 * 123_977_987
    dcn = count_parameters(init_model(base + 'psla_r101_dcn_rfcn.py'))
    assert dcn - total == 3 * (512 * 18 * 9 + 18)

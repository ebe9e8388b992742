"""PSLA / frame-baseline / DFF video segmentors: registry scopes, loss, predict, padding."""

from pathlib import Path

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import MODELS, DefaultScope
from mmengine.structures import PixelData
from mmseg.models.decode_heads import ASPPHead, FCNHead
from mmseg.models.losses import CrossEntropyLoss
from mmseg.structures import SegDataSample

from mmpsla.models.align import PSLAAlign
from mmpsla.models.backbones import PSLAResNet
from mmpsla.models.segmentors import (
    DFFSegmentor,
    FrameBaselineSegmentor,
    PSLAVideoSegmentor,
)

REPO = Path(__file__).resolve().parents[3]
TOY = {
    'psla': 'configs/seg/toy/psla_c_toy_seg.py',
    'baseline': 'configs/seg/toy/frame_baseline_toy_seg.py',
    'dff': 'configs/seg/toy/dff_toy_seg.py',
}
CLIP_LEN = {'psla': 3, 'baseline': 1, 'dff': 2}


def model_cfg(name):
    return Config.fromfile(str(REPO / TOY[name])).model


def build(cfg, scope='mmseg'):
    with DefaultScope.overwrite_default_scope(scope):
        return MODELS.build(cfg)


def seg_sample(h, w, t, seed=0, img_shape=None, ori_shape=None):
    gen = torch.Generator().manual_seed(seed)
    sample = SegDataSample()
    sample.gt_sem_seg = PixelData(data=torch.randint(0, 5, (1, h, w), generator=gen))
    shape = img_shape or (h, w)
    sample.set_metainfo(
        dict(
            img_shape=shape,
            ori_shape=ori_shape or shape,
            is_key_frame=[False] + [True] * (t - 1),
        )
    )
    return sample


def batch(name, n=2, h=64, w=96, seed=0):
    t = CLIP_LEN[name]
    gen = torch.Generator().manual_seed(seed)
    clips = [
        torch.randint(0, 256, (t, 3, h, w), generator=gen, dtype=torch.uint8) for _ in range(n)
    ]
    return dict(inputs=clips, data_samples=[seg_sample(h, w, t, seed + i) for i in range(n)])


@pytest.mark.parametrize('scope', ['mmseg', 'mmdet'])
def test_builds_in_both_scopes(scope):
    """Nested builds (RFU's align, ASPP's loss) resolve in their own registries."""
    cfg = model_cfg('psla')
    if scope == 'mmdet':  # an mmdet-scoped config names the mmseg types with their scope
        cfg.type = 'mmseg.PSLAVideoSegmentor'
    model = build(cfg, scope)
    assert isinstance(model, PSLAVideoSegmentor)
    assert isinstance(model.backbone, PSLAResNet)
    assert isinstance(model.rfu.align, PSLAAlign) and isinstance(model.dense_ft.align, PSLAAlign)
    assert isinstance(model.decode_head, ASPPHead)
    assert type(model.decode_head.loss_decode) is CrossEntropyLoss  # mmseg's, not mmdet's
    assert type(model.data_preprocessor).__name__ == 'SegVideoDataPreProcessor'
    for name in ('baseline', 'dff'):
        cfg = model_cfg(name)
        if scope == 'mmdet':
            cfg.type = 'mmseg.' + cfg.type
        assert type(build(cfg, scope).decode_head.loss_decode) is CrossEntropyLoss


def test_unknown_type_without_scope_fails_in_mmdet():
    cfg = model_cfg('psla')
    with pytest.raises(KeyError, match='PSLAVideoSegmentor'):
        build(cfg, 'mmdet')


@pytest.mark.parametrize('name', ['psla', 'baseline', 'dff'])
def test_loss_and_predict_shapes(name):
    torch.manual_seed(0)
    model = build(model_cfg(name))
    data = model.data_preprocessor(batch(name), True)
    assert data['inputs'].shape == (2, CLIP_LEN[name], 3, 64, 96)
    losses = model(**data, mode='loss')
    assert set(losses) == {'decode.loss_ce', 'decode.acc_seg'}
    assert losses['decode.loss_ce'].item() == pytest.approx(
        torch.log(torch.tensor(5.0)).item(), rel=0.2
    )
    losses['decode.loss_ce'].backward()
    assert model.backbone.feat_conv.weight.grad.abs().sum() > 0
    logits = model(**data, mode='tensor')
    assert logits.shape == (2, 5, 4, 6)  # output stride 16
    model.eval()
    with torch.no_grad():
        test = model.data_preprocessor(batch(name, seed=3), False)
        out = model(**test, mode='predict')
    assert len(out) == 2
    assert out[0].pred_sem_seg.data.shape == (1, 64, 96)
    assert out[0].seg_logits.data.shape == (5, 64, 96)


def test_psla_methods_and_key_frame_loss():
    cfg = model_cfg('psla')
    cfg.key_frame_loss_weight = 0.5
    model = build(cfg)
    data = model.data_preprocessor(batch('psla'), True)
    losses = model(**data, mode='loss')
    assert {'key.loss_ce', 'key.acc_seg'} <= set(losses)
    cfg = model_cfg('psla')
    cfg.update(use_rfu=False, use_quality_net=False)  # method (a)
    model_a = build(cfg)
    assert model_a.rfu is None and model_a.dense_ft.quality_net is None
    assert set(model_a(**data, mode='loss')) == {'decode.loss_ce', 'decode.acc_seg'}
    with pytest.raises(ValueError, match=r'\[n, k1, k2\]'):
        build(model_cfg('psla'))(torch.zeros(1, 2, 3, 32, 32), [seg_sample(32, 32, 2)], 'loss')


def test_psla_predict_follows_the_stream():
    """predict() == feeding the key frames, then the annotated frame, through frame_feature."""
    torch.manual_seed(1)
    model = build(model_cfg('psla')).eval()
    clip = torch.randn(4, 3, 64, 96)
    flags = [False, True, True, True]
    with torch.no_grad():
        feat = model.clip_feature(clip, flags)
        model.reset_video_state()
        temporal = None
        for t in (1, 2, 3):
            temporal = model.rfu(model.backbone(clip[t : t + 1]), temporal)
        expected = model.dense_ft(model.backbone.forward_low(clip[:1]), temporal)
        assert torch.allclose(feat, expected, atol=1e-5)
        # the history matters: without the first key frames F_t differs
        assert not torch.allclose(model.clip_feature(clip[[0, 3]], [False, True]), feat, atol=1e-4)
        # offset 0: the annotated frame is the key frame, the head reads F_t
        key_feat = model.clip_feature(clip[[0, 1]], [True, True])
        assert torch.allclose(
            key_feat, model.rfu(model.backbone(clip[:1]), model.backbone(clip[1:2])), atol=1e-5
        )
    with pytest.raises(RuntimeError, match='before any key frame'):
        model.reset_video_state()
        model.frame_feature(clip[:1], False)
    with pytest.raises(ValueError, match='must be key frames'):
        model.clip_feature(clip, [False, False, True, True])


def test_dff_same_frame_is_unwarped_and_stream():
    torch.manual_seed(2)
    model = build(model_cfg('dff')).eval()
    img = torch.randn(1, 3, 64, 96)
    with torch.no_grad():
        feat = model.train_feature(torch.stack([img, img], dim=1))
        assert torch.allclose(feat, model.backbone(img), atol=1e-6)
        key = torch.randn(1, 3, 64, 96)
        out = model.clip_feature(torch.cat([img, key]), [False, True])
        expected = model.warped_feature(img, key, model.backbone(key))
        assert torch.allclose(out, expected, atol=1e-6)


def test_baseline_ignores_key_frames():
    torch.manual_seed(3)
    model = build(model_cfg('baseline')).eval()
    clip = torch.randn(3, 3, 64, 96)
    with torch.no_grad():
        assert torch.allclose(
            model.clip_feature(clip, [False, True, True]), model.backbone(clip[:1]), atol=1e-6
        )


def test_padding_removed_and_original_size():
    """Inputs padded to 32, predictions cropped back and resized to ori_shape."""
    torch.manual_seed(4)
    cfg = model_cfg('psla')
    cfg.data_preprocessor.test_cfg = dict(size_divisor=32)
    model = build(cfg).eval()
    h, w = 70, 100  # padded to 96 x 128
    clip = torch.randint(0, 256, (2, 3, h, w), dtype=torch.uint8)
    sample = seg_sample(h, w, 2, img_shape=(h, w), ori_shape=(140, 200))
    with torch.no_grad():
        data = model.data_preprocessor(dict(inputs=[clip], data_samples=[sample]), False)
        assert data['inputs'].shape == (1, 2, 3, 96, 128)
        assert data['data_samples'][0].img_padding_size == (0, 28, 0, 26)
        out = model(**data, mode='predict')[0]
        assert out.pred_sem_seg.data.shape == (1, 140, 200)
        feat = model.clip_feature(data['inputs'][0], [False, True])
        logits = torch.nn.functional.interpolate(
            model.decode_head.forward((feat,)), size=(96, 128), mode='bilinear'
        )[:, :, :h, :w]
        expected = torch.nn.functional.interpolate(logits, size=(140, 200), mode='bilinear')
        assert torch.allclose(out.seg_logits.data, expected[0], atol=1e-5)
        assert torch.equal(out.pred_sem_seg.data[0], expected[0].argmax(dim=0))


def test_data_preprocessor_clip_contract():
    model = build(model_cfg('psla'))
    dp = model.data_preprocessor
    clip = torch.full((3, 3, 20, 30), 100, dtype=torch.uint8)
    clip[:, 0] = 200  # B channel in BGR
    sample = seg_sample(20, 30, 3)
    out = dp(dict(inputs=[clip], data_samples=[sample]), True)
    x = out['inputs']
    assert x.shape == (1, 3, 3, 32, 32)
    assert torch.allclose(x[0, :, 2, 0, 0], torch.full((3,), (200 - 103.53) / 57.375))  # RGB
    assert torch.allclose(x[0, :, 0, 0, 0], torch.full((3,), (100 - 123.675) / 58.395))
    gt = out['data_samples'][0].gt_sem_seg.data
    assert gt.shape == (1, 32, 32) and (gt[:, 20:] == 255).all() and (gt[:, :, 30:] == 255).all()
    with pytest.raises(ValueError, match='same T'):
        dp(dict(inputs=[clip, clip[:2]], data_samples=[sample, sample]), True)


def test_cityscapes_configs_build():
    for name, head in (('psla', ASPPHead), ('frame_baseline', ASPPHead), ('dff', ASPPHead)):
        cfg = Config.fromfile(
            str(REPO / f'configs/seg/{name}_deeplabv3_r101-d16_8xb1-80k_cityscapes-video.py')
        )
        cfg.model.backbone.init_cfg = None
        cfg.model.pop('init_cfg', None)
        if 'motion' in cfg.model:
            cfg.model.motion.init_cfg = None
        model = build(cfg.model)
        assert isinstance(model.decode_head, head) and model.num_classes == 19
        assert model.backbone.depth == 101 and model.backbone.low_level_blocks == 4
        assert {
            'psla': PSLAVideoSegmentor,
            'frame_baseline': FrameBaselineSegmentor,
            'dff': DFFSegmentor,
        }[name] is type(model)
    cfg.model.decode_head = cfg.dff_deeplab_head
    model = build(cfg.model)
    assert isinstance(model.decode_head, FCNHead)
    assert model.decode_head.convs[0].conv.out_channels == 1024

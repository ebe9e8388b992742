"""init_model never downloads pretrained weights, wherever the config asks for them."""

import pytest
import torch

from mmpsla.apis import init_model
from mmpsla.apis.inference import drop_pretrained_init


def test_drop_pretrained_init_at_any_depth():
    cfg = dict(
        backbone=dict(init_cfg=dict(type='Pretrained', checkpoint='torchvision://resnet50')),
        detector=dict(backbone=dict(init_cfg=[dict(type='Pretrained', checkpoint='x.pth')])),
        heads=[dict(init_cfg=dict(type='Normal', std=0.01))],
    )
    drop_pretrained_init(cfg)
    assert cfg['backbone']['init_cfg'] is None
    assert cfg['detector']['backbone']['init_cfg'] is None
    assert cfg['heads'][0]['init_cfg'] == dict(type='Normal', std=0.01)  # other inits stay


@pytest.mark.parametrize('config', ['configs/vid/dff_r50_dc5.py', 'configs/vid/fgfa_r50_dc5.py'])
def test_baseline_imagenet_configs_build_offline(config):
    # Both nest pretrained inits under model.detector.backbone and model.motion.
    model = init_model(config, device='cpu')
    assert sum(p.numel() for p in model.motion.parameters()) == 38_675_536
    assert all(torch.isfinite(p).all() for p in model.parameters())

"""Every detector config of mmpsla builds; small ones run a forward pass."""

import glob
import os.path as osp

import pytest
import torch
from psla_test_utils import ROOT, build_model, train_batch

from mmpsla.apis import count_parameters

OWN = sorted(
    osp.relpath(p, osp.join(ROOT, 'configs'))
    for pattern in ('toy/psla_*.py', 'toy/frame_baseline*.py', 'vid/psla_*.py', 'vid/ablation/*.py')
    for p in glob.glob(osp.join(ROOT, 'configs', pattern))
)


def test_configs_found():
    assert 'toy/psla_c_toy.py' in OWN and 'vid/psla_r101_dcn.py' in OWN
    assert len([c for c in OWN if c.startswith('vid/ablation/')]) == 9


@pytest.mark.parametrize('name', [c for c in OWN if 'r101' not in c and 'ablation' not in c])
def test_build_and_forward(name):
    model = build_model(name).train()
    inputs, samples = train_batch(batch=1)
    if 'vid/' in name:  # anchors of 64-512 px: let them cross the 64x96 input's border
        model.rpn_head.train_cfg['allowed_border'] = -1
    losses = model(inputs, samples, mode='loss')
    assert torch.isfinite(losses['loss_cls'])


@pytest.mark.parametrize('name', [c for c in OWN if 'ablation' in c])
def test_ablation_configs(name):
    from psla_test_utils import load_cfg

    cfg = load_cfg(name)
    align_type = cfg.model.dense_ft.align.type
    stem = osp.basename(name)[:-3]
    expected = {
        'nonlocal': 'NonLocalAlign',
        'matchtrans': 'MatchTransAlign',
        'densepsla': 'DensePSLAAlign',
        'psla': 'PSLAAlign',
    }[stem.rsplit('_', 1)[0]]
    assert align_type == expected
    full = stem.endswith('_f') or stem.endswith('_c')
    assert cfg.model.use_quality_net == full
    assert cfg.model.use_rfu == (full or stem.endswith('_b'))
    if cfg.model.use_rfu:
        assert cfg.model.rfu.align.type == expected


def test_r101_configs_build_with_the_expected_size():
    counts = {}
    for name in ('vid/psla_r101.py', 'vid/psla_r101_dcn.py'):
        model = build_model(name)
        counts[name] = (count_parameters(model), count_parameters(model.backbone))
        assert model.backbone.depth == 101 and model.backbone.low_level_blocks == 4
    # torchvision ResNet-101 without its fc (44,549,160 - 2,049,000) + the 3x3 2048->1024 conv
    assert counts['vid/psla_r101.py'][1] == 44_549_160 - 2_049_000 + 2048 * 1024 * 9 + 1024
    # DCN (v1) in res5 adds the offset convs (3x3, 18 outputs on 512 channels) of 3 blocks
    dcn = counts['vid/psla_r101_dcn.py'][0] - counts['vid/psla_r101.py'][0]
    assert dcn == 3 * (512 * 18 * 9 + 18)

"""Every detector config of mmpsla parses and builds; small ones run a forward pass; the
paper-table configs have the structure and parameter counts the README reports."""

import glob
import os.path as osp

import pytest
import torch
from mmengine.registry import init_default_scope
from psla_test_utils import ROOT, build_model, load_cfg, train_batch

from mmpsla.apis import count_parameters

OWN = sorted(
    osp.relpath(p, osp.join(ROOT, 'configs'))
    for pattern in (
        'toy/psla_*.py',
        'toy/frame_baseline*.py',
        'vid/*.py',
        'vid/ablation/*.py',
        'vid/psla/*.py',
        'vid/frame_baseline/*.py',
        'vid/dff/*.py',
        'vid/fgfa/*.py',
        'vid/table4/*.py',
    )
    for p in glob.glob(osp.join(ROOT, 'configs', pattern))
)
#: paper Table 2 rows -> alignment module
ALIGN = {
    'nonlocal': 'NonLocalAlign',
    'matchtrans': 'MatchTransAlign',
    'densepsla': 'DensePSLAAlign',
    'psla': 'PSLAAlign',
}


def test_configs_found():
    assert 'toy/psla_c_toy.py' in OWN and 'vid/psla_r101_dcn.py' in OWN
    # Table 2/5 rows at d = 4, and d = 2, 3, 5 for the 6 methods with a max displacement
    assert len([c for c in OWN if c.startswith('vid/ablation/')]) == 9 + 6 * 3


@pytest.mark.parametrize('name', OWN)
def test_every_config_parses_and_names_its_head(name):
    cfg = load_cfg(name)
    model = cfg.model.get('detector', cfg.model)
    head = model.roi_head.type
    stem = osp.basename(name)
    if 'faster-rcnn' in stem or name.startswith(('vid/dff_r', 'vid/fgfa_r')):
        assert head == 'StandardRoIHead'
    elif name.startswith('vid/'):  # the paper's models: DFF's RPN + R-FCN network
        assert head == 'RFCNRoIHead' and model.rpn_head.type == 'SliceRPNHead'
        assert model.backbone.feat_conv_dilation == 6
        assert model.roi_head.bbox_head.feat_slice == (512, 1024)
        assert cfg.model.train_cfg is None or 'OHEM' in str(model.train_cfg.rcnn.sampler.type)


@pytest.mark.parametrize('name', [c for c in OWN if c.startswith('toy/')])
def test_build_and_forward(name):
    model = build_model(name).train()
    inputs, samples = train_batch(batch=1)
    losses = model(inputs, samples, mode='loss')
    assert torch.isfinite(losses['loss_cls'])


@pytest.mark.parametrize('name', [c for c in OWN if c.startswith('vid/ablation/')])
def test_ablation_configs(name):
    cfg = load_cfg(name)
    align = cfg.model.dense_ft.align
    stem = osp.basename(name)[:-3]
    base, _, d = stem.partition('_d')
    assert align.type == ALIGN[base.rsplit('_', 1)[0]]
    if align.type != 'NonLocalAlign':
        assert align.max_displacement == (int(d) if d else 4)
    full = base.endswith('_f') or base.endswith('_c')
    assert cfg.model.use_quality_net == full
    assert cfg.model.use_rfu == (full or base.endswith('_b'))
    if cfg.model.use_rfu:
        assert cfg.model.rfu.align == align  # one module, shared (share_align)


@pytest.mark.slow
def test_table1_models_build_with_the_published_structure():
    """R101 models of Table 1: sizes follow from DFF's / Deformable-ConvNets' networks."""
    counts = {}
    for name in (
        'vid/frame_baseline_r101_dc5.py',
        'vid/psla_r101.py',
        'vid/psla_r101_dcn.py',
        'vid/ablation/psla_a.py',
    ):
        model = build_model(name)
        counts[name] = count_parameters(model)
        assert model.backbone.depth == 101 and model.backbone.low_level_blocks == 4
    base = counts['vid/frame_baseline_r101_dc5.py']
    # torchvision ResNet-101 without its fc + feat_conv_3x3 (2048 -> 1024) + RPN (1x1 convs
    # on 512 channels: 18 + 36 outputs) + R-FCN (1x1 convs on 512 channels: 49*31 + 49*4)
    resnet = 44_549_160 - 2_049_000
    assert base == resnet + 2048 * 1024 * 9 + 1024 + 513 * 54 + 513 * 49 * 35
    # Deformable R-FCN: res5 offsets (3x3, 2*9*4 groups) + PS offset convs (49*2*31, 49*2)
    dcn = counts['vid/psla_r101_dcn.py'] - counts['vid/psla_r101.py']
    assert dcn == 3 * (512 * 72 * 9 + 72) + 513 * 49 * 2 * 31 + 513 * 49 * 2
    # (c) - (a): the Update Net and the Quality Net (the embeddings are shared)
    fusion = 2048 * 256 + 256 + 256 * 16 * 9 + 16 + 16 * 2 * 9 + 2
    assert counts['vid/psla_r101.py'] - counts['vid/ablation/psla_a.py'] == 2 * fusion
    # (a) - baseline: Transform Net (1x1 1024->64, 3x3 64->256, 3x3 256->1024) + f, g
    transform = (1024 * 64 + 64) + (64 * 256 * 9 + 256) + (256 * 1024 * 9 + 1024)
    embeddings = 2 * (1024 * 256 + 256)
    assert counts['vid/ablation/psla_a.py'] - base == transform + embeddings
    # paper Table 1 / 3: (c) - baseline = 63.7M - 59.6M, (a) - baseline = 62.7M - 59.6M
    assert abs(counts['vid/psla_r101.py'] - base - 4.1e6) < 0.5e6
    assert abs(counts['vid/ablation/psla_a.py'] - base - 3.1e6) < 0.1e6


@pytest.mark.slow
def test_fgfa_rfcn_uses_the_published_embedding_network():
    """FGFA's get_embednet (1x1 512, 3x3 512, 1x1 2048 on 1024 channels), not mmtrack's."""
    from mmdet.registry import MODELS

    init_default_scope('mmdet')  # built without init_weights: no pretrained download
    fgfa = MODELS.build(load_cfg('vid/fgfa/fgfa_rfcn_r101-dc5_8xb1-7e_imagenetvid.py').model)
    dff = MODELS.build(load_cfg('vid/dff/dff_rfcn_r101-dc5_8xb1-7e_imagenetvid.py').model)
    embed = (1024 * 512 + 512) + (512 * 512 * 9 + 512) + (512 * 2048 + 2048)
    assert count_parameters(fgfa.aggregator) == embed == 3_935_232
    # FGFA = DFF's network (N_f, FlowNet-S, RPN + R-FCN) + the embedding network
    assert count_parameters(fgfa) - embed == count_parameters(dff)


def _schedule_values(node, found):
    """Every ``key_frame_interval`` / ``frame_range`` value under ``node``."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ('key_frame_interval', 'frame_range'):
                found.append((key, value))
            _schedule_values(value, found)
    elif isinstance(node, (list, tuple)):
        for value in node:
            _schedule_values(value, found)
    return found


@pytest.mark.parametrize('method', ['psla-a', 'dff-star'])
@pytest.mark.parametrize('interval', [15, 25, 35])
def test_table4_configs_train_and_test_at_their_interval(method, interval):
    """Paper Table 4: trained and tested at l, no l = 10 left anywhere in the config."""
    cfg = load_cfg(f'vid/table4/{method}_rfcn_r101-dc5_l{interval}.py').to_dict()
    found = _schedule_values(cfg, [])
    expected = {('key_frame_interval', interval)}
    if method == 'dff-star':  # the reference frame of a training sample within l - 1 frames
        expected.add(('frame_range', interval - 1))
    assert set(found) == expected, found
    test_pipeline = cfg['test_dataloader']['dataset']['pipeline']
    assert test_pipeline[0] == dict(
        type='PSLAKeyFrameSchedule', key_frame_interval=interval, mode='middle'
    )
    train_sets = cfg['train_dataloader']['dataset']['datasets']
    assert len(train_sets) == 2  # ImageNet VID and DET, both at l
    assert cfg['val_dataloader'] == cfg['test_dataloader']
    assert not any(key.startswith('_') for key in cfg if key != '_scope_')

"""mmtrack 1.x's VID configs (dev-1.x, copied unchanged under tests/fixtures/mmtrack_configs)
load, build, train one step and test on data written here; mmtrack checkpoints load.

Only the data paths and the pretrained-weight URLs are overridden: everything else --
``default_scope='mmtrack'``, R50-DC5 at mmtrack's (1000, 600) scale, the samplers, the
metric -- is mmtrack's config as shipped.
"""

import copy
import math
from pathlib import Path

import pytest
import torch
from fixtures.imagenet_vid_tiny import write_imagenet_vid_tiny
from mmengine.config import Config
from mmengine.registry import DefaultScope
from mmengine.runner import Runner, load_checkpoint

import mmpsla  # noqa: F401
from mmpsla.apis import init_model

CONFIGS = Path(__file__).resolve().parents[1] / 'fixtures' / 'mmtrack_configs' / 'configs' / 'vid'
R50 = {
    'DFF': 'dff/dff_faster-rcnn_r50-dc5_8xb1-7e_imagenetvid.py',
    'FGFA': 'fgfa/fgfa_faster-rcnn_r50-dc5_8xb1-7e_imagenetvid.py',
    'SELSA': 'selsa/selsa_faster-rcnn_r50-dc5_8xb1-7e_imagenetvid.py',
    'TRA': 'temporal_roi_align/selsa-troialign_faster-rcnn_r50-dc5_8xb1-7e_imagenetvid.py',
}


def _drop_pretrained(cfg: dict) -> None:
    """The only model override: no download of ImageNet / FlowNet weights."""
    for part in (cfg.model.detector.backbone, cfg.model.get('motion')):
        if part is not None and part.get('init_cfg', {}).get('type') == 'Pretrained':
            part.init_cfg = None


def _point_at(cfg: Config, root: Path, work_dir: Path) -> Config:
    """The only data override: ``data_root`` of every dataset and evaluator."""
    data_root = f'{root}/'
    for dataset in cfg.train_dataloader.dataset.datasets:
        dataset.data_root = data_root
    for name in ('val', 'test'):
        cfg[f'{name}_dataloader'].dataset.data_root = data_root
        cfg[f'{name}_evaluator'].ann_file = data_root + 'annotations/imagenet_vid_val.json'
    _drop_pretrained(cfg)
    cfg.work_dir = str(work_dir)
    return cfg


@pytest.fixture(scope='module')
def vid_root(tmp_path_factory):
    return write_imagenet_vid_tiny(tmp_path_factory.mktemp('ILSVRC'))


ALL = [
    pytest.param(p, marks=() if '_r50-dc5_8xb1-7e' in p.name else pytest.mark.slow, id=p.name)
    for p in sorted(CONFIGS.rglob('*.py'))
]


@pytest.mark.parametrize('name', ALL)
def test_every_config_loads_and_builds_in_mmtrack_scope(name):
    """R50 / R101 / X101 (and AMP) configs of DFF, FGFA, SELSA, TRoI Align build."""
    cfg = Config.fromfile(str(name))
    assert cfg.default_scope == 'mmtrack'
    _drop_pretrained(cfg)
    DefaultScope.get_instance(f'build-{name.name}', scope_name='mmtrack')
    from mmengine.registry import MODELS

    model = MODELS.build(cfg.model)
    assert type(model).__module__.startswith('mmpsla.models.detectors')
    depth = cfg.model.detector.backbone.depth
    assert len(model.backbone.layer3) == {50: 6, 101: 23}[depth]


@pytest.mark.slow
@pytest.mark.parametrize('method', sorted(R50))
def test_r50_config_trains_one_step_and_tests(method, vid_root, tmp_path):
    cfg = _point_at(Config.fromfile(str(CONFIGS / R50[method])), vid_root, tmp_path)
    runner = Runner.from_cfg(cfg)
    model = runner.model
    expected = {'DFF': 'DFF', 'FGFA': 'FGFA', 'SELSA': 'SELSA', 'TRA': 'SELSA'}[method]
    assert type(model).__name__ == expected
    if method == 'TRA':
        assert type(model.roi_head.bbox_roi_extractor).__name__ == 'TemporalRoIAlign'
    loader = runner.build_dataloader(copy.deepcopy(cfg.train_dataloader))
    assert len(loader.dataset) == 4  # 3 VID training frames + 1 DET image, mmtrack's items
    optim = runner.build_optim_wrapper(copy.deepcopy(cfg.optim_wrapper))
    model.train()
    batch = next(iter(loader))
    frames, _, height, width = batch['inputs'][0].shape
    assert frames == {'DFF': 2}.get(method, 3)  # refs + target (DFF 1 ref, others 2)
    assert (height, width) == (64, 1000)  # mmtrack's Resize keeps the 1000 x 64 frames
    before = {n: p.detach().clone() for n, p in model.named_parameters() if p.requires_grad}
    log_vars = model.train_step(batch, optim)
    assert math.isfinite(float(log_vars['loss'].detach()))
    changed = [
        n for n, p in model.named_parameters() if p.requires_grad and not torch.equal(p, before[n])
    ]
    assert any(n.startswith('roi_head.bbox_head') for n in changed)
    assert any(n.startswith('rpn_head') for n in changed)
    if method in ('DFF', 'FGFA'):
        assert any(n.startswith('motion') for n in changed)
    if method in ('SELSA', 'TRA'):
        assert any('aggregator' in n for n in changed)
    metrics = runner.test()
    assert 'coco/bbox_mAP_50' in metrics and 0.0 <= metrics['coco/bbox_mAP_50'] <= 1.0


def _to_mmtrack_keys(state_dict: dict) -> dict:
    """Our state dict in mmtrack 1.x's layout: the per-frame detector under ``detector.``."""
    parts = ('backbone.', 'neck.', 'rpn_head.', 'roi_head.')
    return {('detector.' + k if k.startswith(parts) else k): v for k, v in state_dict.items()}


@pytest.mark.parametrize(
    'method',
    # DFF and TRoI Align (which has all of SELSA's parts) in the fast suite
    [pytest.param(m, marks=() if m in ('DFF', 'TRA') else pytest.mark.slow) for m in sorted(R50)],
)
def test_mmtrack_checkpoint_loads(method, tmp_path):
    cfg = Config.fromfile(str(CONFIGS / R50[method]))
    _drop_pretrained(cfg)
    source = init_model(cfg, device='cpu')
    state = _to_mmtrack_keys(source.state_dict())
    expected_prefixes = {
        'detector.backbone.',
        'detector.neck.',
        'detector.rpn_head.',
        'detector.roi_head.',
    }
    expected_prefixes |= {'DFF': {'motion.'}, 'FGFA': {'motion.', 'aggregator.'}}.get(method, set())
    assert {
        p for p in expected_prefixes if any(k.startswith(p) for k in state)
    } == expected_prefixes
    if method in ('SELSA', 'TRA'):  # mmtrack's SELSA parameter names
        assert 'detector.roi_head.bbox_head.aggregator.0.fc_embed.weight' in state
    if method == 'TRA':
        assert 'detector.roi_head.bbox_roi_extractor.embed_network.conv.weight' in state
    path = tmp_path / 'mmtrack.pth'
    torch.save({'state_dict': state, 'meta': {}}, path)
    loaded = init_model(cfg, device='cpu')  # other random weights
    load_checkpoint(loaded, str(path), strict=True)  # no missing / unexpected key
    target = loaded.state_dict()
    for key, value in source.state_dict().items():
        assert torch.equal(target[key], value), key

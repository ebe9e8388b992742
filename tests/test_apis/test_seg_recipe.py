"""The pretrained-N_f recipe on the toy segmentation set (mmpsla.apis.experiment with the
seg configs): fingerprint, build_cfg's schedule, weights landing in N_f, demo_seg's
arguments and its --from-json seed study."""

import json
import os.path as osp
import shutil
import sys

import pytest
import torch

from mmpsla.apis import experiment
from mmpsla.apis.experiment import (
    SEG_NF_PRETRAIN_CONFIG,
    apply_toy_recipe,
    build_cfg,
    nf_fingerprint,
)

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, osp.join(ROOT, 'tools'))

import demo_seg  # noqa: E402

SEG_CONFIGS = [
    'configs/seg/toy/psla_c_toy_seg.py',
    'configs/seg/toy/frame_baseline_toy_seg.py',
    'configs/seg/toy/dff_toy_seg.py',
]


@pytest.fixture(scope='module')
def tiny_seg_root(tmp_path_factory):
    from mmpsla.datasets.toy_seg import make_toy_seg

    root = tmp_path_factory.mktemp('toy_seg_recipe')
    make_toy_seg(str(root), seed=0, num_train_snippets=2, num_val_snippets=1)
    return root


def test_seg_fingerprint_follows_the_recipe_and_the_train_split(tiny_seg_root, tmp_path):
    root = str(tmp_path / 'data')
    shutil.copytree(tiny_seg_root, root)
    a = build_cfg(SEG_NF_PRETRAIN_CONFIG, root, '/tmp/a', 100)
    b = build_cfg(SEG_NF_PRETRAIN_CONFIG, root, '/tmp/b', 100)
    b.default_hooks.logger.interval = 7
    first = nf_fingerprint(a, root)
    assert first == nf_fingerprint(b, root) and len(first) == 12
    c = build_cfg(SEG_NF_PRETRAIN_CONFIG, root, '/tmp/a', 100, seed=1)
    d = build_cfg(SEG_NF_PRETRAIN_CONFIG, root, '/tmp/a', 101)
    assert len({nf_fingerprint(x, root) for x in (a, c, d)}) == 3
    # the detection recipe on the same folder is another recipe
    det = build_cfg(experiment.NF_PRETRAIN_CONFIG, root, '/tmp/a', 100)
    assert det.model.type != a.model.type
    # the validation split does not enter it; one changed train label map does
    val_map = next(p for p in sorted((tmp_path / 'data' / 'gtFine' / 'val').rglob('*.png')))
    val_map.write_bytes(val_map.read_bytes() + b'\0')
    assert nf_fingerprint(a, root) == first
    train_map = next(p for p in sorted((tmp_path / 'data' / 'gtFine' / 'train').rglob('*.png')))
    train_map.write_bytes(train_map.read_bytes() + b'\0')
    assert nf_fingerprint(a, root) != first


def test_seg_fingerprint_missing_train_split_names_the_folder(tmp_path):
    cfg = build_cfg(SEG_NF_PRETRAIN_CONFIG, str(tmp_path), '/tmp/a', None)
    with pytest.raises(FileNotFoundError, match='train split folder not found: .*train'):
        nf_fingerprint(cfg, str(tmp_path))


def test_build_cfg_stretches_the_seg_schedule(tiny_seg_root):
    cfg = build_cfg(demo_seg.METHODS['psla_c'][1], str(tiny_seg_root), '/tmp/w', 600, seed=2)
    warmup, poly = cfg.param_scheduler
    assert (warmup.type, warmup.begin, warmup.end) == ('LinearLR', 0, 50)
    assert (poly.type, poly.begin, poly.end) == ('PolyLR', 50, 600)
    assert cfg.train_cfg.max_iters == 600 and cfg.randomness.seed == 2
    assert 'ann_file' not in cfg.test_evaluator  # mmseg's metric reads the dataset
    assert cfg.test_dataloader.dataset.data_root == str(tiny_seg_root) + '/'
    short = build_cfg(demo_seg.METHODS['psla_c'][1], str(tiny_seg_root), '/tmp/w', 4)
    assert (short.param_scheduler[1].begin, short.param_scheduler[1].end) == (3, 4)
    pretrain = build_cfg(SEG_NF_PRETRAIN_CONFIG, str(tiny_seg_root), '/tmp/w', None)
    assert pretrain.train_cfg.max_iters == pretrain.param_scheduler[1].end == 800
    assert pretrain.model.type == 'FrameBaselineSegmentor'


@pytest.mark.parametrize('config', SEG_CONFIGS)
def test_pretrained_nf_lands_in_every_seg_model(config, tiny_seg_root, tmp_path):
    """The seg frame model's backbone lands, unchanged, in N_f of PSLA / the frame baseline /
    DFF when the Runner initialises the model; the decode head starts fresh. For PSLA both
    halves of the split ResNet carry it: N_l (``forward_low``) and the full N_f give what a
    PSLAResNet loaded with the checkpoint gives."""
    from mmengine.registry import init_default_scope
    from mmengine.runner import Runner
    from mmseg.registry import MODELS

    init_default_scope('mmseg')
    root = str(tiny_seg_root)
    source_cfg = build_cfg(SEG_NF_PRETRAIN_CONFIG, root, str(tmp_path), 1)
    torch.manual_seed(321)
    source = MODELS.build(source_cfg.model)
    source.init_weights()
    with torch.no_grad():  # GroupNorm's default init is 1 / 0: make it checkable
        for p in source.backbone.parameters():
            p.add_(0.01 * torch.randn_like(p))
    ckpt = str(tmp_path / 'frame_segmentor.pth')
    torch.save({'state_dict': source.state_dict(), 'meta': {}}, ckpt)

    cfg = build_cfg(config, root, str(tmp_path / 'run'), 1)
    apply_toy_recipe(cfg, ckpt, key_frame_loss_weight=0.0)
    assert cfg.model.backbone.init_cfg == dict(
        type='Pretrained', checkpoint=ckpt, prefix='backbone.'
    )
    if cfg.model.type == 'PSLAVideoSegmentor':
        assert cfg.model.key_frame_loss_weight == 0.0
    runner = Runner.from_cfg(cfg)
    runner._init_model_weights()  # what runner.train() does first
    model = runner.model
    got = model.state_dict()
    want = {k: v for k, v in source.state_dict().items() if k.startswith('backbone.')}
    assert len(want) > 50 and {k for k in got if k.startswith('backbone.')} == set(want)
    for key, value in want.items():
        assert torch.equal(got[key], value), key
    head = 'decode_head.conv_seg.weight'
    assert not torch.equal(got[head], source.state_dict()[head])
    if hasattr(model.backbone, 'forward_low'):
        model.eval()
        source.eval()
        img = torch.randn(1, 3, 64, 96)
        with torch.no_grad():
            assert torch.allclose(model.backbone.forward_low(img), source.backbone.forward_low(img))
            assert torch.allclose(model.backbone(img), source.backbone(img))

    cfg = build_cfg(config, root, str(tmp_path / 'heads'), 1)  # --pretrained-heads
    apply_toy_recipe(cfg, ckpt, key_frame_loss_weight=0.0, heads=True)
    runner = Runner.from_cfg(cfg)
    runner._init_model_weights()
    got = runner.model.state_dict()
    heads = [k for k in source.state_dict() if k.startswith('decode_head.')]
    assert len(heads) >= 4
    for key in heads + list(want):
        assert torch.equal(got[key], source.state_dict()[key]), key


def test_demo_seg_bad_arguments(tmp_path):
    args = demo_seg.parse_args(['--seeds', '3', '--first-seed', '1', '--pretrained', 'none'])
    assert args.seeds == 3 and args.first_seed == 1 and args.methods == ['psla_c', 'frame_baseline']
    assert args.key_frame_loss_weight == demo_seg.SEG_KEY_FRAME_LOSS_WEIGHT
    # segmentation keeps the measured N_f-only recipe unless the heads are asked for
    assert demo_seg.parse_args([]).pretrained_heads is False
    assert demo_seg.parse_args(['--pretrained-heads']).pretrained_heads is True
    bad = [
        (['--seeds', '0'], '--seeds: expected a number of seeds >= 1'),
        (['--iters', '0'], '--iters: expected >= 1'),
        (['--key-frame-loss-weight', '-1'], '--key-frame-loss-weight: expected >= 0'),
        (['--pretrained', str(tmp_path / 'nf.pth')], "--pretrained: no such file .*'auto'"),
        (['--log-interval', '0'], '--log-interval'),
        (['--pretrain-iters', '0'], '--pretrain-iters'),
        (['--pretrained', 'none', '--pretrained-heads'], "--pretrained-heads .* not 'none'"),
        (['--methods', 'dff', 'dff'], '--methods: a method is named twice'),
        (['--checkpoints', 'rfcn=x.pth'], 'METHOD=VALUE'),
        (['--checkpoints', f'dff={tmp_path / "no.pth"}'], 'dff: no such file'),
    ]
    for argv, message in bad:
        with pytest.raises(SystemExit, match=message):
            demo_seg.parse_args(argv)
    ckpt = tmp_path / 'dff.pth'
    ckpt.write_bytes(b'')
    with pytest.raises(SystemExit, match='dff is not among --methods'):
        demo_seg.parse_args(['--checkpoints', f'dff={ckpt}'])
    with pytest.raises(SystemExit, match='drop --checkpoints'):
        demo_seg.parse_args(['--methods', 'dff', '--seeds', '2', '--checkpoints', f'dff={ckpt}'])
    with pytest.raises(SystemExit, match='--from-json: no such file'):
        demo_seg.main(['--from-json', str(tmp_path / 'none.json'), '--work-dir', str(tmp_path)])


def _seg_rows(seed, base_deg, psla_deg):
    common = dict(mIoU=0.30, mIoU_clean=0.31, seed=seed, key_fps=10.0, nonkey_fps=0.0)
    return [
        dict(common, key='psla_c', method='PSLA (c)', mIoU_degraded=psla_deg, fps=18.0),
        dict(
            common, key='frame_baseline', method='Frame baseline', mIoU_degraded=base_deg, fps=10.0
        ),
    ]


def test_demo_seg_from_json_merges_single_seed_runs(tmp_path, capsys):
    paths = []
    for seed, (base, psla) in enumerate([(0.20, 0.25), (0.30, 0.28), (0.22, 0.27)]):
        path = tmp_path / f'seed{seed}.json'
        path.write_text(json.dumps(dict(rows=_seg_rows(seed, base, psla))))
        paths.append(str(path))
    out_dir = tmp_path / 'study'
    rows = demo_seg.main(['--from-json', *paths, '--work-dir', str(out_dir)])
    assert sorted(rows) == [0, 1, 2]
    saved = json.loads((out_dir / 'seeds.json').read_text())
    diff = saved['summary']['diffs']['frame_baseline']['mIoU_degraded']
    assert diff['per_seed'] == pytest.approx({'0': 0.05, '1': -0.02, '2': 0.05})
    assert diff['mean'] == pytest.approx(0.08 / 3) and diff['positive'] == 2
    assert saved['summary']['fps_ratio']['frame_baseline']['mean'] == pytest.approx(1.8)
    text = (out_dir / 'seeds.md').read_text()
    assert 'mIoU degraded: PSLA (c) − Frame baseline' in text
    assert '| 1 | 30.0 | 28.0 | 30.0 | 30.0 | +0.0 | -2.0 | 1.80x |' in text
    assert '**+2.7 ± 4.0**' in text and 'mIoU degraded vs Frame baseline: 2/3' in text
    assert text.strip() in capsys.readouterr().out
    with pytest.raises(SystemExit, match='seed 0 appears twice'):
        demo_seg.main(['--from-json', paths[0], paths[0], '--work-dir', str(out_dir)])


def test_predictions_image_feeds_each_model_its_own_pipeline(tmp_path):
    """Each column's model gets the batch of its own test loader (PSLA's clips carry key
    frames, the baseline's do not); only degraded annotated frames become rows."""
    import cv2
    import numpy as np
    from mmengine.structures import PixelData
    from mmseg.structures import SegDataSample

    frames = []
    for i in range(3):
        path = str(tmp_path / f'frame{i}.png')
        cv2.imwrite(path, np.full((8, 12, 3), 40 * i, np.uint8))
        frames.append(path)

    def loader(tag):
        batches = []
        for i, path in enumerate(frames):
            sample = SegDataSample(metainfo=dict(img_path=path, is_degraded=i != 1))
            sample.gt_sem_seg = PixelData(data=torch.full((1, 8, 12), i, dtype=torch.uint8))
            batches.append(dict(inputs=[tag], data_samples=[sample]))
        return batches

    class Model:
        def __init__(self, tag, label):
            self.tag, self.label, self.seen = tag, label, []

        def test_step(self, data):
            assert data['inputs'] == [self.tag]  # its own pipeline's batch
            self.seen.append(data['data_samples'][0].img_path)
            out = SegDataSample()
            out.pred_sem_seg = PixelData(data=torch.full((1, 8, 12), self.label))
            return [out]

    psla, base = Model('clip', 2), Model('frame', 3)
    models = {'PSLA (c)': (psla, loader('clip')), 'Frame baseline': (base, loader('frame'))}
    palette = [[0, 0, 0], [255, 0, 0], [0, 255, 0], [0, 0, 255]]
    out = demo_seg.write_predictions(models, palette, str(tmp_path / 'p.png'))
    assert psla.seen == base.seen == [frames[0], frames[2]]
    image = cv2.imread(out)
    assert image.shape == (18 + 2 * 8, 4 * (12 + 3), 3)
    row = image[18 + 8 + 4]  # second row: frame 2, ground truth class 2 (green)
    assert tuple(row[15 + 5]) == (0, 255, 0)  # BGR of palette[2]
    assert tuple(row[30 + 5]) == (0, 255, 0) and tuple(row[45 + 5]) == (255, 0, 0)

"""mmpsla.apis.experiment: progress lines, stage times, the pretrained-N_f recipe."""

import os.path as osp
import re
from types import SimpleNamespace

import pytest
import torch

from mmpsla.apis import experiment
from mmpsla.apis.experiment import (
    ProgressHook,
    StageTimes,
    apply_pretrained_heads,
    apply_pretrained_nf,
    apply_toy_recipe,
    build_cfg,
    check_pretrained_heads,
    ensure_pretrained_heads,
    format_duration,
    nf_fingerprint,
)


def test_default_iters():
    assert experiment.default_iters(None, False, True) == experiment.FINETUNE_ITERS == 600
    assert experiment.default_iters(None, False, False) is None  # the config's schedule
    assert experiment.default_iters(None, True, True) == 4
    assert experiment.default_iters(250, True, True) == 250


def test_format_duration():
    assert [format_duration(s) for s in (0, 42.4, 185, 3720)] == ['0s', '42s', '3m05s', '1h02m']


def test_progress_hook_prints_iteration_loss_and_time_left(monkeypatch, capsys):
    clock = {'t': 0.0}
    monkeypatch.setattr(experiment.time, 'perf_counter', lambda: clock['t'])

    class Loader(list):
        pass

    runner = SimpleNamespace(
        iter=0, train_loop=SimpleNamespace(max_iters=10), test_dataloader=Loader(range(5))
    )
    hook = ProgressHook('PSLA (c) seed 2', interval=4, test_interval=2)
    hook.before_train(runner)
    for i in range(10):
        clock['t'] += 2.0  # 2 s per iteration
        runner.iter = i
        hook.after_train_iter(runner, i, outputs={'loss': torch.tensor(float(i))})
    lines = capsys.readouterr().out.splitlines()
    assert lines == [
        '    [PSLA (c) seed 2] train 4/10  loss 1.500  2.00 s/it  8s done, ~12s left',
        '    [PSLA (c) seed 2] train 8/10  loss 5.500  2.00 s/it  16s done, ~4s left',
        '    [PSLA (c) seed 2] train 10/10  loss 8.500  2.00 s/it  20s done, ~0s left',
    ]
    hook.before_test(runner)
    for i in range(5):
        clock['t'] += 0.5
        hook.after_test_iter(runner, i)
    lines = capsys.readouterr().out.splitlines()
    assert [re.sub(r'\s+', ' ', x.strip()) for x in lines] == [
        '[PSLA (c) seed 2] test 2/5 frames 2.0 frames/s 1s done, ~2s left',
        '[PSLA (c) seed 2] test 4/5 frames 2.0 frames/s 2s done, ~0s left',
        '[PSLA (c) seed 2] test 5/5 frames 2.0 frames/s 2s done, ~0s left',
    ]
    with pytest.raises(ValueError, match='interval'):
        ProgressHook('x', interval=0)


def test_stage_times_table(monkeypatch, capsys):
    clock = {'t': 0.0}
    monkeypatch.setattr(experiment.time, 'perf_counter', lambda: clock['t'])
    times = StageTimes()
    with times('train A'):
        clock['t'] += 125
    with pytest.raises(RuntimeError):
        with times('test A'):
            clock['t'] += 5
            raise RuntimeError('a failing stage is still timed')
    assert times.seconds == {'train A': 125, 'test A': 5}
    assert times.table().splitlines() == [
        '| stage | wall time |',
        '|---|---|',
        '| train A | 2m05s |',
        '| test A | 5s |',
        '| total | 2m10s |',
    ]
    out = capsys.readouterr().out
    assert '==> train A' in out and 'train A: 2m05s' in out
    with times('train A'):  # a repeated stage (e.g. once per seed) adds up
        clock['t'] += 10
    assert times.seconds['train A'] == 135
    assert 'train A: 10s' in capsys.readouterr().out


def test_fingerprint_follows_the_recipe_not_the_work_dir(tiny_toy_root):
    root = str(tiny_toy_root)
    a = build_cfg(experiment.NF_PRETRAIN_CONFIG, root, '/tmp/a', 100)
    b = build_cfg(experiment.NF_PRETRAIN_CONFIG, root, '/tmp/b', 100)
    b.default_hooks.logger.interval = 7
    assert nf_fingerprint(a, root) == nf_fingerprint(b, root)
    c = build_cfg(experiment.NF_PRETRAIN_CONFIG, root, '/tmp/a', 100, seed=1)
    d = build_cfg(experiment.NF_PRETRAIN_CONFIG, root, '/tmp/a', 101)
    assert len({nf_fingerprint(x, root) for x in (a, c, d)}) == 3


def test_build_cfg_moves_the_lr_step_and_sets_the_seed(tiny_toy_root):
    cfg = build_cfg('configs/toy/psla_c_toy.py', str(tiny_toy_root), '/tmp/w', 600, seed=3)
    steps = [s for s in cfg.param_scheduler if s.type == 'MultiStepLR']
    assert steps[0].milestones == [450] and cfg.randomness.seed == 3
    assert cfg.train_cfg.max_iters == 600 and cfg.default_hooks.checkpoint.interval == 600


#: One config per way a frame model sits in a method (DFF: under model.detector).
RECIPE_CONFIGS = [
    'configs/toy/psla_c_toy.py',
    'configs/toy/frame_baseline_toy.py',
    'configs/toy/dff_toy.py',
]


def _saved_frame_model(root: str, tmp_path, seed: int, config=experiment.NF_PRETRAIN_CONFIG):
    """A randomly initialised toy frame detector (by default the N_f pretraining config),
    saved as a checkpoint: (its state dict, the checkpoint path)."""
    from mmdet.registry import MODELS
    from mmengine.registry import init_default_scope

    init_default_scope('mmdet')
    source_cfg = build_cfg(config, root, str(tmp_path), 1)
    torch.manual_seed(seed)
    source = MODELS.build(source_cfg.model)
    source.init_weights()
    ckpt = str(tmp_path / f'frame_detector_{osp.basename(config)}.pth')
    torch.save({'state_dict': source.state_dict(), 'meta': {}}, ckpt)
    return source.state_dict(), ckpt


def _initialised_state(cfg) -> dict:
    """The model's state dict after the Runner's weight initialisation (what train() does
    first)."""
    from mmengine.runner import Runner

    runner = Runner.from_cfg(cfg)
    runner._init_model_weights()
    return runner.model.state_dict()


@pytest.mark.parametrize('config', RECIPE_CONFIGS)
def test_pretrained_nf_is_loaded_into_every_method(config, tiny_toy_root, tmp_path):
    """A frame-detector checkpoint's backbone lands, unchanged, in the method's N_f when the
    Runner initialises the model; nothing else is taken from it."""
    root = str(tiny_toy_root)
    source, ckpt = _saved_frame_model(root, tmp_path, 123)
    cfg = build_cfg(config, root, str(tmp_path / 'run'), 1)
    assert apply_toy_recipe(cfg, ckpt) is cfg
    if 'key_frame_loss_weight' in cfg.model:
        assert cfg.model.key_frame_loss_weight == experiment.PRETRAINED_KEY_FRAME_LOSS_WEIGHT
        custom = apply_toy_recipe(cfg, ckpt, key_frame_loss_weight=0.0)  # the paper's loss
        assert custom.model.key_frame_loss_weight == 0.0
    got = _initialised_state(cfg)
    want = {k: v for k, v in source.items() if k.startswith('backbone.')}
    assert len(want) > 50
    for key, value in want.items():
        assert torch.equal(got[key], value), key
    rpn = [k for k in got if k.startswith('rpn_head') and k.endswith('weight')][0]
    assert not torch.equal(got[rpn], source[rpn])


@pytest.mark.parametrize('config', RECIPE_CONFIGS)
def test_pretrained_heads_are_loaded_into_every_method(config, tiny_toy_root, tmp_path):
    """With ``heads=True`` (``--pretrained-heads``) the RPN and the RoI head come from the
    frame model too, unchanged, besides N_f; an N_f-only file is refused by name."""
    root = str(tiny_toy_root)
    want, ckpt = _saved_frame_model(root, tmp_path, 321)
    cfg = build_cfg(config, root, str(tmp_path / 'run'), 1)
    apply_toy_recipe(cfg, ckpt, heads=True)
    got = _initialised_state(cfg)
    heads = [k for k in want if k.startswith(('rpn_head.', 'roi_head.'))]
    assert len(heads) >= 8
    for key in heads + [k for k in want if k.startswith('backbone.')]:
        assert torch.equal(got[key], want[key]), key

    nf_only = str(tmp_path / 'nf_only.pth')
    backbone = {k: v for k, v in want.items() if k.startswith('backbone.')}
    torch.save({'state_dict': backbone}, nf_only)
    with pytest.raises(ValueError, match=r'has no rpn_head\.\* weights .*N_f only'):
        apply_pretrained_heads(build_cfg(config, root, str(tmp_path / 'r2'), 1), nf_only)


RFCN_CONFIG = 'configs/toy/psla_c_rfcn_toy.py'
RFCN_FRAME_CONFIG = 'configs/toy/frame_baseline_rfcn_toy.py'


def test_heads_of_another_type_are_refused_by_name(tiny_toy_root, tmp_path):
    """An R-FCN method reading the Faster R-CNN frame detector's RoI head would silently keep
    its random initialisation (names differ): check_pretrained_heads refuses it, names the
    head and the fix; the R-FCN frame detector's heads load, unchanged."""
    from mmengine.runner import Runner

    root = str(tiny_toy_root)
    _, faster = _saved_frame_model(root, tmp_path, 5)
    cfg = build_cfg(RFCN_CONFIG, root, str(tmp_path / 'a'), 1)
    apply_toy_recipe(cfg, faster, heads=True)
    model = Runner.from_cfg(cfg).model
    refused = r'none of the \d+ weights of the roi_head .*pretrained_heads_config'
    with pytest.raises(ValueError, match=refused):
        check_pretrained_heads(model, faster, list(experiment.HEAD_KEYS))

    want, rfcn = _saved_frame_model(root, tmp_path, 6, RFCN_FRAME_CONFIG)
    cfg = build_cfg(RFCN_CONFIG, root, str(tmp_path / 'b'), 1)
    apply_toy_recipe(cfg, rfcn, heads=True)
    runner = Runner.from_cfg(cfg)
    check_pretrained_heads(runner.model, rfcn, list(experiment.HEAD_KEYS))
    runner._init_model_weights()
    got = runner.model.state_dict()
    keys = [k for k in want if k.startswith(('backbone.', 'rpn_head.', 'roi_head.'))]
    assert any(k.startswith('roi_head.bbox_head.conv_cls') for k in keys)
    for key in keys:
        assert torch.equal(got[key], want[key]), key


def test_ensure_pretrained_heads_trains_a_second_stage_once(tiny_toy_root, tmp_path, capsys):
    """Configs without ``pretrained_heads_config`` use the first stage as is; the R-FCN
    config gets its frame detector trained on top of it (N_f and RPN loaded from the first
    stage), cached by a fingerprint that includes the first stage's file and reused."""
    root = str(tiny_toy_root)
    _, first = _saved_frame_model(root, tmp_path, 7)
    faster_cfg = build_cfg('configs/toy/psla_c_toy.py', root, str(tmp_path / 'f'), 1)
    assert ensure_pretrained_heads(faster_cfg, first, root) == first

    cfg = build_cfg(RFCN_CONFIG, root, str(tmp_path / 'r'), 1)
    second = ensure_pretrained_heads(cfg, first, root, iters=1)
    assert osp.dirname(second) == osp.dirname(first) and second != first
    saved = torch.load(second, map_location='cpu', weights_only=False)
    assert saved['meta']['init_from'] == first and saved['meta']['iters'] == 1
    assert saved['meta']['config'] == RFCN_FRAME_CONFIG
    assert any(k.startswith('roi_head.bbox_head.conv_cls') for k in saved['state_dict'])
    assert 'starting from ' + first in capsys.readouterr().out
    assert ensure_pretrained_heads(cfg, first, root, iters=1) == second  # reused
    assert 'reusing' in capsys.readouterr().out


def test_apply_pretrained_nf_bad_input(tiny_toy_root, tmp_path):
    cfg = build_cfg('configs/toy/psla_c_toy.py', str(tiny_toy_root), str(tmp_path), 1)
    with pytest.raises(FileNotFoundError, match='pretrained N_f checkpoint not found'):
        apply_pretrained_nf(cfg, str(tmp_path / 'missing.pth'))
    ckpt = tmp_path / 'nf.pth'
    ckpt.write_bytes(b'x')
    cfg.model = dict(type='SomethingElse', backbone=dict(type='ResNet'))
    with pytest.raises(ValueError, match='no PSLAResNet backbone'):
        apply_pretrained_nf(cfg, str(ckpt))


def test_runners_in_one_process_write_their_own_scalars(tiny_toy_root, tmp_path):
    """compare / demo train several methods in one process: each run's visualizer (and so
    its scalars.json) must live in its own work dir, also for configs that name their
    visualizer (mmdet's and mmtrack's runtimes set name='visualizer')."""
    from mmengine.runner import Runner

    repo = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
    dirs = []
    for i, base in enumerate(['psla_c_toy.py', 'frame_baseline_toy.py', 'psla_c_toy.py']):
        named = tmp_path / f'named_{i}.py'
        named.write_text(
            f"_base_ = ['{repo}/configs/toy/{base}']\nvisualizer = dict(name='visualizer')\n"
        )
        cfg = build_cfg(str(named), str(tiny_toy_root), str(tmp_path / f'run{i}'), 2, seed=0)
        runner = Runner.from_cfg(cfg)
        dirs.append(runner.visualizer._vis_backends['LocalVisBackend']._save_dir)
    for i, save_dir in enumerate(dirs):
        assert save_dir.startswith(str(tmp_path / f'run{i}')), dirs

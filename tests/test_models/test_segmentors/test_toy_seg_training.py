"""End to end on a tiny toy segmentation set: Runner training (loss falls), test, demo."""

import json
import os.path as osp
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from mmengine.config import Config
from mmengine.hooks import Hook
from mmengine.runner import Runner

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture(scope='module')
def tiny_toy_seg(tmp_path_factory):
    from mmpsla.datasets.toy_seg import make_toy_seg

    root = tmp_path_factory.mktemp('toy_seg')
    make_toy_seg(str(root), seed=0, num_train_snippets=8, num_val_snippets=4)
    return root


class LossRecorder(Hook):
    def __init__(self):
        self.losses = []

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
        self.losses.append(float(outputs['loss']))


def toy_cfg(name, root, work_dir, iters):
    cfg = Config.fromfile(str(REPO / 'configs' / 'seg' / 'toy' / name))
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        cfg[loader].dataset.data_root = f'{root}/'
    cfg.work_dir = str(work_dir)
    cfg.train_cfg.max_iters = iters
    cfg.train_cfg.val_interval = 10**9
    cfg.default_hooks.checkpoint.interval = iters
    cfg.param_scheduler = [dict(type='ConstantLR', factor=1.0, by_epoch=False)]
    cfg.train_dataloader.batch_size = 2
    cfg.log_level = 'WARNING'
    return cfg


@pytest.mark.slow
def test_psla_toy_training_loss_falls_and_tests(tiny_toy_seg, tmp_path):
    runner = Runner.from_cfg(toy_cfg('psla_c_toy_seg.py', tiny_toy_seg, tmp_path, 40))
    recorder = LossRecorder()
    runner.register_hook(recorder)
    runner.train()
    losses = recorder.losses
    assert len(losses) == 40 and np.isfinite(losses).all()
    assert np.mean(losses[-8:]) < 0.85 * np.mean(losses[:4])  # measured: 1.56 -> 1.16
    metrics = runner.test()
    assert {'mIoU', 'aAcc'} <= set(metrics)
    assert {'degraded_mIoU', 'not_degraded_mIoU'} & set(metrics)  # the subsets present
    assert 0 <= metrics['mIoU'] <= 100


@pytest.mark.slow
def test_demo_seg_quick_seed_study(tmp_path):
    """tools/demo_seg.py --quick --seeds 2: one pretrained N_f, both methods trained per seed
    from it with progress lines, tested, timed side by side; the seed study and the image."""
    out = subprocess.run(
        [sys.executable, str(REPO / 'tools' / 'demo_seg.py'), '--quick', '--seeds', '2']
        + ['--first-seed', '3', '--log-interval', '2', '--work-dir', str(tmp_path)]
        # the baseline first: its test clips carry no key frame, PSLA's image must not use them
        + ['--methods', 'frame_baseline', 'psla_c', '--key-frame-loss-weight', '0.5'],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    saved = json.loads((tmp_path / 'seeds.json').read_text())
    assert sorted(saved['seeds']) == ['3', '4'] and saved['summary']['seeds'] == [3, 4]
    nf = saved['pretrained']
    assert nf.startswith(str(tmp_path / 'pretrained_nf' / 'nf_')) and osp.isfile(nf)
    for seed, rows in saved['seeds'].items():
        # each seed was also written when it finished (merges with --from-json)
        per_seed = json.loads((tmp_path / f'seed{seed}' / 'seed_result.json').read_text())
        assert per_seed['rows'] == rows
        assert [r['method'] for r in rows] == ['Frame baseline', 'PSLA (c)']
        base, psla = rows
        assert psla['key_frame_loss_weight'] == 0.5
        assert psla['nonkey_fps'] > 0 and base['nonkey_fps'] == 0
        for r in rows:
            assert r['seed'] == int(seed) and r['train_iters'] == 4 and r['pretrained'] == nf
            assert 0 <= r['mIoU'] <= 1
            assert (tmp_path / f'seed{seed}' / r['key'] / 'iter_4.pth').is_file()
    diffs = saved['summary']['diffs']['frame_baseline']
    assert set(diffs) == {'mIoU', 'mIoU_degraded'}
    assert diffs['mIoU']['per_seed']['3'] == pytest.approx(
        saved['seeds']['3'][1]['mIoU'] - saved['seeds']['3'][0]['mIoU']
    )
    for label in ('pretrain N_f', 'PSLA (c) seed 3', 'Frame baseline seed 4'):
        assert (
            f'[{label}] train 2/4  loss ' in out.stdout and f'[{label}] train 4/4  ' in out.stdout
        )
    text = (tmp_path / 'seeds.md').read_text()
    assert 'Over seeds [3, 4] (mean ± sd):' in text and '| stage | wall time |' in text
    assert 'Seed 4:' in text and 'mIoU degraded: PSLA (c) − Frame baseline' in text
    assert (tmp_path / 'predictions.png').is_file() or 'ground truth: None' in out.stdout

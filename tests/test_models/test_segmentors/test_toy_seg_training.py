"""End to end on a tiny toy segmentation set: Runner training (loss falls), test, demo."""

import json
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
def test_demo_seg_quick(tmp_path):
    """tools/demo_seg.py --quick: tools/train.py for both methods, test, timing, image."""
    out = subprocess.run(
        [
            sys.executable,
            str(REPO / 'tools' / 'demo_seg.py'),
            '--quick',
            '--work-dir',
            str(tmp_path),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    result = json.loads((tmp_path / 'results.json').read_text())
    assert [r['method'] for r in result['rows']] == ['PSLA (c)', 'Frame baseline']
    psla, base = result['rows']
    assert psla['nonkey_fps'] > 0 and base['nonkey_fps'] == 0
    assert psla['iters'] == 3 and (tmp_path / 'psla_c' / 'iter_3.pth').is_file()
    assert (tmp_path / 'predictions.png').is_file() or 'None' in out.stdout

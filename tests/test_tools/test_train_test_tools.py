"""tools/train.py, tools/test.py and the distributed launchers on the toy config."""

import json
import os
import pickle
import socket
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
WRITE_AUDIT = REPO / 'tests' / 'fixtures' / 'write_audit'


def _free_port() -> str:
    """A free local TCP port for torchrun (29500 may be taken by another run)."""
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return str(sock.getsockname()[1])


def _run(cmd, audit_dir=None, **kwargs):
    env = dict(os.environ, PYTHON=sys.executable, OMP_NUM_THREADS='1', PORT=_free_port())
    if audit_dir is not None:  # log every file each torchrun worker writes
        audit_dir.mkdir(parents=True, exist_ok=True)
        env['MMPSLA_WRITE_AUDIT_DIR'] = str(audit_dir)
        env['PYTHONPATH'] = os.pathsep.join([str(WRITE_AUDIT), env.get('PYTHONPATH', '')])
    result = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, **kwargs)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result


def _written(audit_dir: Path, rank: int, under: Path) -> list:
    """Files under ``under`` that worker ``rank`` opened for writing or renamed onto."""
    log = audit_dir / f'rank{rank}.log'
    assert log.is_file(), f'worker {rank} left no audit log: {sorted(audit_dir.iterdir())}'
    lines = [line.split(' ', 1) for line in log.read_text().splitlines()]
    return [(op, path) for op, path in lines if path.startswith(str(under))]


def _metrics(work_dir: Path) -> dict:
    """The metrics of the last test run logged under ``work_dir``."""
    logs = sorted(work_dir.glob('*/*.json'))
    assert logs, f'no json log under {work_dir}'
    lines = [json.loads(line) for line in logs[-1].read_text().splitlines() if line.strip()]
    return {k: v for k, v in lines[-1].items() if k.startswith('vid/')}


def test_bad_arguments_fail_clearly(tmp_path, tool):
    train_tool, test_tool = tool('train'), tool('test')
    with pytest.raises(FileNotFoundError, match='config file not found'):
        train_tool.main([str(tmp_path / 'missing.py')])
    config = REPO / 'configs' / 'toy' / 'psla_c_toy.py'
    with pytest.raises(FileNotFoundError, match='--resume checkpoint not found'):
        train_tool.main([str(config), '--resume', str(tmp_path / 'missing.pth')])
    with pytest.raises(FileNotFoundError, match='checkpoint file not found'):
        test_tool.main([str(config), str(tmp_path / 'missing.pth')])
    (tmp_path / 'x.pth').write_bytes(b'')
    with pytest.raises(ValueError, match='--out must be a .pkl'):
        test_tool.main([str(config), str(tmp_path / 'x.pth'), '--out', 'res.json'])


@pytest.mark.slow
def test_dist_train_then_single_and_dist_test_agree(tmp_path, tiny_toy_root, write_toy_config):
    config = write_toy_config(tmp_path, 'toy/psla_c_toy.py', tiny_toy_root, max_iters=2)
    work_dir = tmp_path / 'work'
    train_audit = tmp_path / 'audit_train'
    train = _run(
        ['bash', 'tools/dist_train.sh', str(config), '2', '--work-dir', str(work_dir)],
        audit_dir=train_audit,
        timeout=600,
    )
    checkpoint = work_dir / 'iter_2.pth'
    assert checkpoint.is_file(), train.stdout[-2000:]
    log = next(work_dir.glob('*/*.log')).read_text()
    assert 'Distributed training: True' in log
    assert "model_wrapper_cfg = dict(type='CPUDistributedDataParallel')" in log
    # one writer: rank 0 wrote the log, config, scalars and checkpoint; rank 1 nothing
    assert _written(train_audit, 1, tmp_path) == []
    assert ('rename', str(checkpoint)) in _written(train_audit, 0, tmp_path)

    single_dir, dist_dir = tmp_path / 'test_single', tmp_path / 'test_dist'
    out = tmp_path / 'predictions.pkl'
    _run(
        [
            sys.executable,
            'tools/test.py',
            str(config),
            str(checkpoint),
            '--work-dir',
            str(single_dir),
            '--out',
            str(out),
        ],
        timeout=600,
    )
    assert out.is_file() and out.stat().st_size > 0
    dist_out, test_audit = tmp_path / 'predictions_dist.pkl', tmp_path / 'audit_test'
    _run(
        [
            'bash',
            'tools/dist_test.sh',
            str(config),
            str(checkpoint),
            '2',
            '--work-dir',
            str(dist_dir),
            '--out',
            str(dist_out),
        ],
        audit_dir=test_audit,
        timeout=600,
    )
    # mmengine's LoggerHook wrote the metrics JSON from both ranks at once (a corrupt file
    # under load); now rank 1 writes nothing and rank 0 writes the metrics file once
    assert _written(test_audit, 1, tmp_path) == []
    (metrics_file,) = dist_dir.glob('*/*.json')
    assert _written(test_audit, 0, tmp_path).count(('rename', str(metrics_file))) == 1
    json.loads(metrics_file.read_text())  # one valid JSON document
    # one prediction per val frame (mmengine's DumpResults kept one per *video*)
    with open(tiny_toy_root / 'annotations' / 'val.json') as f:
        num_frames = len(json.load(f)['images'])
    with open(out, 'rb') as f_single, open(dist_out, 'rb') as f_dist:
        single_preds, dist_preds = pickle.load(f_single), pickle.load(f_dist)
    assert len(single_preds) == len(dist_preds) == num_frames
    single, dist = _metrics(single_dir), _metrics(dist_dir)
    assert 'vid/mAP' in single
    # Videos are split between the two processes; the gathered metric must be identical.
    assert single == pytest.approx(dist, abs=1e-6, nan_ok=True)


@pytest.mark.parametrize(
    'script,args,expected',
    [
        (
            'slurm_train.sh',
            ['part', 'job', 'cfg.py', 'wd', '--amp'],
            'tools/train.py cfg.py --work-dir=wd --amp --launcher slurm',
        ),
        (
            'slurm_test.sh',
            ['part', 'job', 'cfg.py', 'ck.pth', '--out', 'r.pkl'],
            'tools/test.py cfg.py ck.pth --out r.pkl --launcher slurm',
        ),
    ],
)
def test_slurm_scripts_build_the_srun_command(tmp_path, script, args, expected):
    fake_srun = tmp_path / 'srun'
    fake_srun.write_text('#!/bin/sh\necho srun "$@"\n')
    fake_srun.chmod(0o755)
    env = dict(os.environ, PATH=f'{tmp_path}:{os.environ["PATH"]}', PYTHON='py', GPUS='16')
    out = subprocess.run(
        ['bash', f'tools/{script}', *args], cwd=REPO, env=env, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    line = out.stdout.strip()
    assert line.startswith('srun -p part --job-name=job --gres=gpu:8 --ntasks=16 ')
    assert line.endswith(expected)
    missing = subprocess.run(['bash', f'tools/{script}', 'part'], cwd=REPO, capture_output=True)
    assert missing.returncode == 2 and b'usage:' in missing.stderr

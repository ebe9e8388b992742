"""Faults survived on the toy config: SIGKILL while saving a checkpoint, a dead gloo peer."""

import os
import re
import signal
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import torch

REPO = Path(__file__).resolve().parents[2]

# Runs tools/train.py after patching mmengine's file writer: the write of iter_4.pth puts
# half of its bytes on disk, fsyncs them and SIGKILLs the process (a kill mid-write).
KILL_WHILE_SAVING = textwrap.dedent(
    """
    import os, runpy, signal, sys
    from mmengine.fileio import LocalBackend
    real_put = LocalBackend.put

    def put(self, obj, filepath):
        if 'iter_4' in str(filepath):
            with open(filepath, 'wb') as f:
                f.write(obj[: len(obj) // 2])
                f.flush()
                os.fsync(f.fileno())
            os.kill(os.getpid(), signal.SIGKILL)
        real_put(self, obj, filepath)

    LocalBackend.put = put
    sys.argv = ['tools/train.py', *sys.argv[1:]]
    runpy.run_path('tools/train.py', run_name='__main__')
    """
)

HOOKS = """
default_hooks = dict(
    checkpoint=dict(interval=2, max_keep_ckpts=1),
    logger=dict(interval=1),
)
"""


def _env(**extra):
    return dict(os.environ, OMP_NUM_THREADS='1', **extra)


def _train(args, **kwargs):
    return subprocess.run(
        [sys.executable, *args], cwd=REPO, env=_env(), capture_output=True, text=True, **kwargs
    )


def _weights(path):
    return torch.load(path)['state_dict']


@pytest.mark.slow
def test_sigkill_while_saving_keeps_previous_checkpoint_and_resume_is_exact(
    tmp_path, tiny_toy_root, write_toy_config
):
    config = str(write_toy_config(tmp_path, 'toy/psla_c_toy.py', tiny_toy_root, 4, HOOKS))
    work = tmp_path / 'killed'
    killed = _train(['-c', KILL_WHILE_SAVING, config, '--work-dir', str(work)], timeout=600)
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-3000:]
    # the half-written save is a temporary file; iter_2 is intact and still named
    assert [p.name for p in work.glob('.iter_4.pth.tmp-*')], sorted(os.listdir(work))
    assert not (work / 'iter_4.pth').exists()
    assert (work / 'last_checkpoint').read_text() == str(work / 'iter_2.pth')
    assert torch.load(work / 'iter_2.pth')['meta']['iter'] == 2

    three = ['--cfg-options', 'train_cfg.max_iters=3']
    resumed = _train(['tools/train.py', config, '--work-dir', str(work), '--resume', *three])
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert 'resumed epoch: 0, iter: 2' in resumed.stdout + resumed.stderr
    straight_dir = tmp_path / 'straight'
    straight = _train(['tools/train.py', config, '--work-dir', str(straight_dir), *three])
    assert straight.returncode == 0, straight.stderr[-3000:]
    # the step after the resume equals the uninterrupted run's, bit for bit
    expected = _weights(straight_dir / 'iter_3.pth')
    got = _weights(work / 'iter_3.pth')
    assert got.keys() == expected.keys()
    for name, value in got.items():
        torch.testing.assert_close(value, expected[name], rtol=0, atol=0, msg=name)


def _free_port() -> str:
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return str(sock.getsockname()[1])


@pytest.mark.slow
def test_killed_rank_makes_the_other_exit_with_an_error(tmp_path, tiny_toy_root, write_toy_config):
    """Two gloo ranks started by hand (as srun would, no torchrun agent to clean up)."""
    extra = "env_cfg = dict(dist_cfg=dict(backend='gloo', timeout=60))\n"
    config = write_toy_config(tmp_path, 'toy/psla_c_toy.py', tiny_toy_root, 10**6, extra)
    port, work = _free_port(), tmp_path / 'work'
    ranks = []
    for rank in (0, 1):
        env = _env(RANK=str(rank), LOCAL_RANK=str(rank), WORLD_SIZE='2',
                   MASTER_ADDR='127.0.0.1', MASTER_PORT=port)  # fmt: skip
        log = open(tmp_path / f'rank{rank}.out', 'w')  # noqa: SIM115
        ranks.append(
            subprocess.Popen(
                [
                    sys.executable,
                    'tools/train.py',
                    str(config),
                    '--launcher',
                    'pytorch',
                    '--work-dir',
                    str(work),
                ],  # fmt: skip
                cwd=REPO,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )  # fmt: skip
        )
    try:
        deadline = time.monotonic() + 300
        while not re.search(r'Iter\(train\) \[\s*3/', (tmp_path / 'rank0.out').read_text()):
            assert all(p.poll() is None for p in ranks), (tmp_path / 'rank0.out').read_text()
            assert time.monotonic() < deadline, 'training did not start'
            time.sleep(0.5)
        ranks[1].send_signal(signal.SIGKILL)
        killed_at = time.monotonic()
        code = ranks[0].wait(timeout=120)  # bounded: never a hang
        waited = time.monotonic() - killed_at
    finally:
        for p in ranks:
            if p.poll() is None:
                p.kill()
                p.wait()
    output = (tmp_path / 'rank0.out').read_text()
    assert code != 0, output[-3000:]
    assert waited < 90, waited
    print(f'rank 0 exited with {code} {waited:.1f} s after rank 1 was killed')

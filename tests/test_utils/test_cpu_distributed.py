"""setup_cpu_distributed starts a gloo group for torchrun on CPUs and tears it down at exit."""

import atexit
import datetime
import socket

import pytest
import torch.distributed as dist
from mmengine.config import Config

from mmpsla.utils import cpu_distributed
from mmpsla.utils.cpu_distributed import destroy_cpu_process_group, setup_cpu_distributed


def test_non_distributed_and_unsupported_launchers():
    cfg = Config(dict(env_cfg=dict()))
    assert setup_cpu_distributed(cfg, 'none') is False
    assert 'model_wrapper_cfg' not in cfg
    with pytest.raises(ValueError, match='launcher="pytorch"'):
        setup_cpu_distributed(cfg, 'slurm')


def _free_port() -> str:
    """A free local port (a fixed one collides when two test runs share the machine)."""
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return str(sock.getsockname()[1])


@pytest.mark.parametrize('timeout', [0, -5, '60', True])
def test_bad_timeout_is_refused(monkeypatch, timeout):
    monkeypatch.setattr(cpu_distributed.torch.cuda, 'is_available', lambda: False)
    cfg = Config(dict(env_cfg=dict(dist_cfg=dict(timeout=timeout))))
    with pytest.raises(ValueError, match='env_cfg.dist_cfg.timeout must be a positive'):
        setup_cpu_distributed(cfg, 'pytorch')


def test_gloo_group_is_started_and_destroyed_at_exit(monkeypatch, tmp_path):
    monkeypatch.setattr(cpu_distributed.torch.cuda, 'is_available', lambda: False)
    monkeypatch.setenv('RANK', '0')
    monkeypatch.setenv('WORLD_SIZE', '1')
    monkeypatch.setenv('MASTER_ADDR', '127.0.0.1')
    monkeypatch.setenv('MASTER_PORT', _free_port())
    registered = []
    monkeypatch.setattr(atexit, 'register', registered.append)
    started = []
    real_init = cpu_distributed.torch_dist.init_process_group
    monkeypatch.setattr(
        cpu_distributed.torch_dist,
        'init_process_group',
        lambda **kwargs: started.append(kwargs) or real_init(**kwargs),
    )
    cfg = Config(dict(env_cfg=dict(dist_cfg=dict(timeout=42))))
    try:
        assert setup_cpu_distributed(cfg, 'pytorch') is True
        assert started[0]['timeout'] == datetime.timedelta(seconds=42)
        assert dist.is_initialized() and dist.get_backend() == 'gloo'
        assert cfg.env_cfg.dist_cfg.backend == 'gloo'
        assert cfg.model_wrapper_cfg == dict(type='CPUDistributedDataParallel')
        assert registered == [destroy_cpu_process_group]
    finally:
        destroy_cpu_process_group()
    assert not dist.is_initialized()
    destroy_cpu_process_group()  # idempotent: nothing left to destroy

"""setup_cpu_distributed starts a gloo group for torchrun on CPUs and tears it down at exit."""

import atexit

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


def test_gloo_group_is_started_and_destroyed_at_exit(monkeypatch, tmp_path):
    monkeypatch.setattr(cpu_distributed.torch.cuda, 'is_available', lambda: False)
    monkeypatch.setenv('RANK', '0')
    monkeypatch.setenv('WORLD_SIZE', '1')
    monkeypatch.setenv('MASTER_ADDR', '127.0.0.1')
    monkeypatch.setenv('MASTER_PORT', '29533')
    registered = []
    monkeypatch.setattr(atexit, 'register', registered.append)
    cfg = Config(dict(env_cfg=dict()))
    try:
        assert setup_cpu_distributed(cfg, 'pytorch') is True
        assert dist.is_initialized() and dist.get_backend() == 'gloo'
        assert cfg.env_cfg.dist_cfg.backend == 'gloo'
        assert cfg.model_wrapper_cfg == dict(type='CPUDistributedDataParallel')
        assert registered == [destroy_cpu_process_group]
    finally:
        destroy_cpu_process_group()
    assert not dist.is_initialized()
    destroy_cpu_process_group()  # idempotent: nothing left to destroy

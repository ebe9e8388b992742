"""Distributed training and testing on CPUs (gloo) with the mmengine Runner.

mmengine 0.10.7 assumes a CUDA device per process in two places:
``init_dist('pytorch')`` calls ``torch.cuda.set_device`` and ``Runner.wrap_model``
passes ``device_ids=[LOCAL_RANK]`` to ``DistributedDataParallel``, which both fail for a
CPU model. :func:`setup_cpu_distributed` prepares a CPU run so that neither happens:
it starts the gloo process group itself (the Runner then skips ``init_dist``) and
selects :class:`CPUDistributedDataParallel` as the model wrapper. The group it starts is
destroyed when the process exits: left to interpreter shutdown, gloo's threads could abort
a finished process ("terminate called without an active exception", exit code -6), which
torchrun then reports as a failed run.

A run never hangs forever on a dead peer: when a process dies, gloo sees its sockets close
and the collectives of the others raise at once; for anything that stays silent without
closing (a stuck or stopped process, a lost network), every collective, and the start-up
rendezvous, gives up after ``env_cfg.dist_cfg.timeout`` seconds (default
:data:`DEFAULT_TIMEOUT_S`, torch's own default), as mmengine's ``init_dist`` reads it
for CUDA runs.
"""

import atexit
import datetime
import os

import torch
import torch.distributed as torch_dist
from mmengine.config import Config
from mmengine.model import MMDistributedDataParallel
from mmengine.registry import MODEL_WRAPPERS

#: Seconds a gloo collective waits for the other processes before it raises.
DEFAULT_TIMEOUT_S = 1800


@MODEL_WRAPPERS.register_module()
class CPUDistributedDataParallel(MMDistributedDataParallel):
    """:class:`MMDistributedDataParallel` for a model that lives on the CPU.

    The Runner always passes ``device_ids=[LOCAL_RANK]``; a CPU module must be
    wrapped with ``device_ids=None``, so the argument is dropped.
    """

    def __init__(self, module: torch.nn.Module, device_ids=None, **kwargs):
        super().__init__(module=module, device_ids=None, **kwargs)


def setup_cpu_distributed(cfg: Config, launcher: str) -> bool:
    """Prepare a distributed run without CUDA; do nothing when CUDA is usable.

    Args:
        cfg: The run's config; its ``model_wrapper_cfg`` is set to
            :class:`CPUDistributedDataParallel` and ``env_cfg.dist_cfg.backend``
            to ``'gloo'``; ``env_cfg.dist_cfg.timeout`` (seconds, optional) bounds every
            collective.
        launcher: The Runner's launcher (``'none'``, ``'pytorch'``, ``'slurm'``...).

    Returns:
        True when a CPU process group was started here.

    Raises:
        ValueError: For another launcher, or a timeout that is not a positive number.
    """
    if launcher == 'none' or torch.cuda.is_available():
        return False
    if launcher != 'pytorch':
        raise ValueError(
            f'CPU distributed runs support launcher="pytorch" (torchrun), got {launcher!r}'
        )
    env_cfg = dict(cfg.get('env_cfg') or {})
    env_cfg['dist_cfg'] = dict(env_cfg.get('dist_cfg') or {}, backend='gloo')
    timeout = env_cfg['dist_cfg'].get('timeout', DEFAULT_TIMEOUT_S)
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or timeout <= 0:
        raise ValueError(
            f'env_cfg.dist_cfg.timeout must be a positive number of seconds, got {timeout!r}; '
            'set it with e.g. --cfg-options env_cfg.dist_cfg.timeout=600'
        )
    cfg.env_cfg = env_cfg
    cfg.model_wrapper_cfg = dict(type='CPUDistributedDataParallel')
    if not torch_dist.is_initialized():
        torch_dist.init_process_group(
            backend='gloo',
            rank=int(os.environ['RANK']),
            world_size=int(os.environ['WORLD_SIZE']),
            timeout=datetime.timedelta(seconds=timeout),
        )
        atexit.register(destroy_cpu_process_group)
    return True


def destroy_cpu_process_group() -> None:
    """Destroy the default process group if one is still initialised (idempotent).

    Every rank first waits at a barrier, so no process closes its gloo connections while a
    peer still uses them: a rank that finished first and tore its sockets down made a peer
    that was still evaluating abort at exit ("terminate called without an active
    exception", exit code -6). A dead peer fails the barrier at once, and a silent one after
    ``env_cfg.dist_cfg.timeout``; the group is destroyed either way.
    """
    if torch_dist.is_available() and torch_dist.is_initialized():
        try:
            torch_dist.barrier()
        except RuntimeError:  # a peer is gone: nothing left to wait for
            pass
        torch_dist.destroy_process_group()

"""Build a sub-module in the registry scope it belongs to, whatever the default scope.

mmengine resolves a config's ``type`` (and every build nested in a module's constructor,
such as ``RFU`` building its ``PSLAAlign``) in the *current default scope*. Under
``default_scope='mmseg'`` (a video segmentor, or any mmseg run earlier in the process) a
plain ``MODELS.build`` would look for ``PSLAAlign`` in mmseg's registry and fail. These
helpers switch the scope for the duration of one build.
"""

from typing import Union

import torch.nn as nn
from mmdet.registry import MODELS as DET_MODELS
from mmengine.registry import Registry

ModuleOrCfg = Union[dict, nn.Module]


def build_in_scope(registry: Registry, scope: str, cfg: ModuleOrCfg, what: str) -> nn.Module:
    """Build ``cfg`` with ``registry`` switched to ``scope``; a module is returned as is.

    Args:
        registry: The registry to build from (e.g. mmdet's ``MODELS``).
        scope: The scope to resolve ``cfg['type']`` in (e.g. ``'mmdet'``).
        cfg: A config dict with a ``type``, or an already built module.
        what: What ``cfg`` is, for the error message.
    """
    if isinstance(cfg, nn.Module):
        return cfg
    if not isinstance(cfg, dict) or 'type' not in cfg:
        raise TypeError(f'{what} must be a config dict with a "type" or a module, got {cfg!r}')
    with registry.switch_scope_and_registry(scope) as scoped:
        return scoped.build(cfg)


def build_det_module(cfg: ModuleOrCfg) -> nn.Module:
    """Build an mmdet-registry module (``PSLAResNet``, ``RFU``, ``PSLAAlign``, ...)."""
    return build_in_scope(DET_MODELS, 'mmdet', cfg, 'a detection-side module config')

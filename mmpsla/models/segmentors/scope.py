"""Build a sub-module in the registry scope it belongs to, whatever the default scope.

mmengine resolves a config's ``type`` (and every build nested in a module's constructor,
such as ``RFU`` building its ``PSLAAlign``) in the *current default scope*. A segmentor
built under ``default_scope='mmseg'`` would therefore look for ``PSLAResNet`` in mmseg's
registry, and one built under ``'mmdet'`` would build mmdet's ``CrossEntropyLoss`` (another
signature) inside mmseg's ``ASPPHead``. These helpers switch the default scope for the
duration of one build.
"""

from typing import Union

import torch.nn as nn
from mmdet.registry import MODELS as DET_MODELS
from mmseg.registry import MODELS as SEG_MODELS

ModuleOrCfg = Union[dict, nn.Module]


def _build(registry, scope: str, cfg: ModuleOrCfg, what: str) -> nn.Module:
    if isinstance(cfg, nn.Module):
        return cfg
    if not isinstance(cfg, dict) or 'type' not in cfg:
        raise TypeError(f'{what} must be a config dict with a "type" or a module, got {cfg!r}')
    with registry.switch_scope_and_registry(scope) as scoped:
        return scoped.build(cfg)


def build_det_module(cfg: ModuleOrCfg) -> nn.Module:
    """Build an mmdet-registry module (``PSLAResNet``, ``RFU``, ``DenseFT``, ...)."""
    return _build(DET_MODELS, 'mmdet', cfg, 'a detection-side module config')


def build_seg_module(cfg: ModuleOrCfg) -> nn.Module:
    """Build an mmseg-registry module (decode heads, losses, data pre-processors)."""
    return _build(SEG_MODELS, 'mmseg', cfg, 'a segmentation module config')

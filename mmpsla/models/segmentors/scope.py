"""Build a sub-module in the registry scope it belongs to, whatever the default scope.

mmengine resolves a config's ``type`` (and every build nested in a module's constructor,
such as ``RFU`` building its ``PSLAAlign``) in the *current default scope*. A segmentor
built under ``default_scope='mmseg'`` would therefore look for ``PSLAResNet`` in mmseg's
registry, and one built under ``'mmdet'`` would build mmdet's ``CrossEntropyLoss`` (another
signature) inside mmseg's ``ASPPHead``. These helpers switch the default scope for the
duration of one build.
"""

from mmseg.registry import MODELS as SEG_MODELS

from ..scoped_build import ModuleOrCfg, build_det_module, build_in_scope

__all__ = ['build_det_module', 'build_seg_module']


def build_seg_module(cfg: ModuleOrCfg):
    """Build an mmseg-registry module (decode heads, losses, data pre-processors)."""
    return build_in_scope(SEG_MODELS, 'mmseg', cfg, 'a segmentation module config')

"""Fine-tuning from a checkpoint trained on another class list (``load_from``)."""

from __future__ import annotations

import re
from typing import Dict, List, Sequence

import torch
from mmdet.registry import HOOKS
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmengine.runner import BaseLoop

#: State-dict keys of the class-dependent layers of mmdet's box heads and our R-FCN head.
CLASS_LAYERS = (r'(^|\.)fc_cls\.', r'(^|\.)fc_reg\.', r'(^|\.)conv_cls\.', r'(^|\.)conv_reg\.')


def _runner_classes(runner) -> List[str] | None:
    """The class list of the runner's built dataloaders (train first)."""
    for name in ('_train_loop', '_val_loop', '_test_loop'):
        loop = getattr(runner, name, None)
        if isinstance(loop, BaseLoop):
            classes = (getattr(loop.dataloader.dataset, 'metainfo', None) or {}).get('classes')
            if classes:
                return list(classes)
    return None


def remap_class_rows(
    value: torch.Tensor, target: torch.Tensor, old: Sequence[str], new: Sequence[str]
) -> torch.Tensor | None:
    """``value``'s per-class rows rearranged for the class list ``new``, or None.

    Two layouts are recognised from the row counts: classification (``K + 1`` rows, the
    background last, as in mmdet's ``BBoxHead``) and class-wise box regression (``4 K``
    rows, 4 per class). Rows of classes in both lists are copied by
    name; the others (and the background row's position) come from ``target``, the
    model's freshly initialised tensor.

    Args:
        value (Tensor): ``(K_old + 1, ...)`` or ``(4 K_old, ...)`` checkpoint tensor.
        target (Tensor): ``(K_new + 1, ...)`` or ``(4 K_new, ...)`` model tensor.
        old, new: The checkpoint's and the model's class names.
    """
    rows_old, rows_new = value.shape[0], target.shape[0]
    if value.shape[1:] != target.shape[1:]:
        return None
    out = target.clone()
    if rows_old == len(old) + 1 and rows_new == len(new) + 1:
        out[-1] = value[-1]  # background
        per_class = 1
    elif rows_old == 4 * len(old) and rows_new == 4 * len(new):
        per_class = 4
    else:
        return None
    for i, name in enumerate(new):
        if name in old:
            j = list(old).index(name)
            out[i * per_class : (i + 1) * per_class] = value[j * per_class : (j + 1) * per_class]
    return out


@HOOKS.register_module()
class AdaptClassHeadHook(Hook):
    """Load a checkpoint trained on another class list into a model for this one.

    With ``load_from`` set to, e.g., a 30-class ImageNet VID model and a dataset of other
    classes, the class-dependent layers (``class_layers``: the box head's classifier and
    class-wise regressor) cannot be loaded as they are. After the checkpoint is read and
    before it is loaded into the model (``after_load_checkpoint``), this hook rewrites
    those tensors: rows of the classes that both lists share are copied by class name
    (the head is *resized*), the rows of new classes keep the model's fresh
    initialisation, and a tensor whose layout is not recognised but whose shape differs
    is *re-initialised* (the model's initial tensor replaces it); one with the same shape
    and no recognised layout (e.g. a class-agnostic regressor) is kept. Any other tensor
    whose shape differs from the model's is re-initialised too. One log message lists what was
    resized, re-initialised or kept. The checkpoint's classes come from its
    ``meta['dataset_meta']['classes']`` (mmengine writes the training set's metainfo
    there); without them only shape-mismatched tensors are re-initialised.

    Use it in a config as::

        load_from = 'work_dirs/psla_r101_dcn/iter_120000.pth'
        custom_hooks = [dict(type='AdaptClassHeadHook')]
        model = dict(roi_head=dict(bbox_head=dict(num_classes=len(classes))))

    A resumed run (``resume=True``) of the same class list is left untouched.

    Args:
        class_layers (Sequence[str]): Regular expressions of class-dependent state-dict
            keys. Defaults to :data:`CLASS_LAYERS`.
    """

    priority = 'VERY_HIGH'

    def __init__(self, class_layers: Sequence[str] = CLASS_LAYERS) -> None:
        self.class_layers = [re.compile(p) for p in class_layers]

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        """Rewrite ``checkpoint['state_dict']`` in place for the runner's model."""
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        state = checkpoint.get('state_dict', checkpoint)
        old = ((checkpoint.get('meta') or {}).get('dataset_meta') or {}).get('classes')
        new = _runner_classes(runner)
        self._check_num_classes(model, new)
        report = self.adapt(state, model.state_dict(), old, new)
        if report:
            lines = [f'  {key}: {what}' for key, what in report.items()]
            runner.logger.info(
                f'AdaptClassHeadHook: checkpoint classes {None if old is None else list(old)} '
                f'-> model classes {new}:\n' + '\n'.join(lines)
            )

    def adapt(
        self,
        state: Dict[str, torch.Tensor],
        model_state: Dict[str, torch.Tensor],
        old: Sequence[str] | None,
        new: Sequence[str] | None,
    ) -> Dict[str, str]:
        """Rewrite ``state`` in place; return ``{key: what was done}``."""
        classes_differ = old is not None and new is not None and list(old) != list(new)
        report = {}
        for key, value in list(state.items()):
            target = model_state.get(key)
            if target is None or not torch.is_tensor(value):
                continue
            is_class_layer = any(p.search(key) for p in self.class_layers)
            if value.shape == target.shape and not (is_class_layer and classes_differ):
                continue
            remapped = None
            if is_class_layer and classes_differ:
                remapped = remap_class_rows(value, target, old, new)
            shapes = f'{tuple(value.shape)} -> {tuple(target.shape)}'
            if remapped is not None:
                shared = sum(name in old for name in new)
                state[key] = remapped.to(value.dtype)
                report[key] = (
                    f'resized {shapes}: {shared} shared class(es) copied by name, '
                    f'{len(new) - shared} new class(es) re-initialised'
                )
            elif value.shape != target.shape:
                state[key] = target.clone()
                report[key] = f're-initialised {shapes} (shape differs)'
            else:
                report[key] = (
                    f'kept as is {shapes}: same shape, no per-class rows recognised '
                    '(right for a class-agnostic layer; check any other)'
                )
        return report

    @staticmethod
    def _check_num_classes(model, classes: Sequence[str] | None) -> None:
        if classes is None:
            return
        for name, module in model.named_modules():
            num = getattr(module, 'num_classes', None)
            if name.endswith('bbox_head') and num is not None and num != len(classes):
                raise ValueError(
                    f'{name}.num_classes is {num} but the dataset has {len(classes)} classes '
                    f'{list(classes)}; set model.{name}.num_classes={len(classes)} in the config'
                )

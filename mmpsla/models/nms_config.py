"""NMS ops named in head configs: ``nms=dict(type='mmpsla.ops.nms', iou_threshold=...)``.

mmcv's ``batched_nms`` (which mmdet's RPN and box heads call) looks a string ``type`` up
among mmcv's own NMS functions, and calls a callable ``type`` as it is. So that a config can
stay plain text and still choose :func:`mmpsla.ops.nms` (the compiled CPU kernel), the
detectors pass their ``train_cfg`` / ``test_cfg`` through :func:`resolve_nms_ops` before
building the heads: every ``nms`` dict whose ``type`` is a name in :data:`NMS_OPS` gets the
function instead. Other types (``'nms'``, ``'soft_nms'``...) are left to mmcv.
"""

import copy
from typing import Any, Callable, Dict

from mmpsla.ops import nms

NMS_OPS: Dict[str, Callable] = {'mmpsla.ops.nms': nms}


def resolve_nms_ops(cfg: Any) -> Any:
    """A deep copy of ``cfg`` (dicts / lists) with the ``type`` of every ``nms`` dict that
    names one of :data:`NMS_OPS` replaced by the function; ``cfg`` itself is unchanged."""
    cfg = copy.deepcopy(cfg)
    _resolve_in_place(cfg)
    return cfg


def _resolve_in_place(node: Any) -> None:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == 'nms' and isinstance(value, dict) and value.get('type') in NMS_OPS:
                value['type'] = NMS_OPS[value['type']]
            else:
                _resolve_in_place(value)
    elif isinstance(node, (list, tuple)):
        for item in node:
            _resolve_in_place(item)

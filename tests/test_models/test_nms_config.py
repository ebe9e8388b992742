"""mmpsla.models.nms_config: 'mmpsla.ops.nms' in a head config becomes the function, which the
heads built by the detectors then call through mmcv's batched_nms."""

from mmengine.config import Config, ConfigDict

from mmpsla.models.nms_config import resolve_nms_ops
from mmpsla.ops import nms


def test_resolves_named_ops_in_a_copy_and_leaves_the_rest():
    cfg = ConfigDict(
        rpn=dict(nms_pre=300, nms=dict(type='mmpsla.ops.nms', iou_threshold=0.7)),
        rcnn=dict(nms=dict(type='nms', iou_threshold=0.5)),
        stages=[dict(nms=dict(type='mmpsla.ops.nms', iou_threshold=0.6)), dict(nms=None)],
    )
    resolved = resolve_nms_ops(cfg)
    assert resolved.rpn.nms.type is nms and resolved.rpn.nms.iou_threshold == 0.7
    assert resolved.stages[0]['nms']['type'] is nms and resolved.stages[1]['nms'] is None
    assert resolved.rcnn.nms.type == 'nms'  # mmcv's own ops stay names
    assert cfg.rpn.nms.type == 'mmpsla.ops.nms'  # the input is unchanged
    assert resolve_nms_ops(None) is None


def test_toy_detector_heads_call_the_compiled_nms():
    from mmdet.registry import MODELS
    from mmengine.registry import init_default_scope

    import mmpsla  # noqa: F401

    init_default_scope('mmdet')
    cfg = Config.fromfile('configs/toy/psla_c_toy.py')
    assert cfg.model.test_cfg.rpn.nms.type == 'mmpsla.ops.nms'
    model = MODELS.build(cfg.model)
    assert model.rpn_head.test_cfg.nms.type is nms
    assert model.roi_head.test_cfg.nms.type is nms
    assert model.train_cfg.rpn_proposal.nms.type is nms

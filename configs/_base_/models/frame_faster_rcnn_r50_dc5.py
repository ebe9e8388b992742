# ruff: noqa: C408  (OpenMMLab configs are written with dict(...))
# Frame baseline: the same N_f (ResNet-50 DC5 + 1024-ch conv) and Faster R-CNN head as PSLA,
# applied to every frame independently.
_base_ = ['./psla_faster_rcnn_r50_dc5.py']
model = dict(
    _delete_=True,
    type='FrameBaselineDetector',
    data_preprocessor={{_base_.model.data_preprocessor}},
    backbone={{_base_.model.backbone}},
    rpn_head={{_base_.model.rpn_head}},
    roi_head={{_base_.model.roi_head}},
    train_cfg={{_base_.model.train_cfg}},
    test_cfg={{_base_.model.test_cfg}},
)

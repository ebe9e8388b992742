# ruff: noqa: C408  (OpenMMLab configs are written with dict(...))
# Frame baseline with the paper's N_t: the same N_f (ResNet DC5 + DFF's dilated feat_conv_3x3)
# and RPN + R-FCN head as configs/_base_/models/psla_rfcn_r50_dc5.py, on every frame.
_base_ = ['./psla_rfcn_r50_dc5.py']
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

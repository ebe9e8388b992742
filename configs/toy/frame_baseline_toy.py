# ruff: noqa: C408  (OpenMMLab configs are written with dict(...))
# Frame-by-frame baseline on the toy set: the same N_f (tiny ResNet) and head as
# configs/toy/psla_c_toy.py, run on every frame; trained on the labelled frame only.
_base_ = ['./psla_c_toy.py']
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

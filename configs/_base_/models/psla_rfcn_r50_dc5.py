# ruff: noqa: C408  (OpenMMLab configs are written with dict(...))
# PSLA (method (c)) with the paper's task network N_t: DFF's RPN + R-FCN on DFF's dilated
# feat_conv_3x3 (configs/_base_/models/rfcn_dff_head.py), otherwise the model of
# psla_faster_rcnn_r50_dc5.py (ResNet-50 DC5, RFU + DenseFT with PSLA, d = 4).
_base_ = ['./psla_faster_rcnn_r50_dc5.py', './rfcn_dff_head.py']
model = dict(
    backbone=dict(feat_conv_dilation={{_base_.rfcn_feat_conv_dilation}}),
    rpn_head={{_base_.rfcn_rpn_head}},
    roi_head={{_base_.rfcn_roi_head}},
    train_cfg={{_base_.rfcn_train_cfg}},
    test_cfg={{_base_.rfcn_test_cfg}},
)

# ruff: noqa: C408  (OpenMMLab configs are written with dict(...))
# FGFA with the R-FCN network of its published code (paper Table 1 row): ResNet-101 DC5,
# DFF's feat_conv_3x3 (3x3, dilation 6, 1024 channels, ReLU), RPN on channels [0, 512) and
# R-FCN on [512, 1024), OHEM (128 RoIs), 300 proposals, test NMS 0.3
# (configs/_base_/models/rfcn_dff_head.py), and the embedding network of FGFA's released
# symbol (get_embednet: 1x1 1024->512, ReLU, 3x3 512, ReLU, 1x1 512->2048; 3.94M) instead of
# mmtrack's one 3x3 1024->1024 conv (9.44M). FlowNet-S, data and 7-epoch schedule as
# configs/vid/fgfa_r101_dc5.py (mmtrack 1.x's FGFA settings).
#   tools/dist_train.sh configs/vid/fgfa/fgfa_rfcn_r101-dc5_8xb1-7e_imagenetvid.py 8
_base_ = ['../fgfa_r101_dc5.py', '../../_base_/models/rfcn_dff_head.py']
model = dict(
    detector=dict(
        backbone=dict(feat_conv_dilation={{_base_.rfcn_feat_conv_dilation}}),
        rpn_head={{_base_.rfcn_rpn_head}},
        roi_head={{_base_.rfcn_roi_head}},
        train_cfg={{_base_.rfcn_train_cfg}},
        test_cfg={{_base_.rfcn_test_cfg}},
    ),
    aggregator=dict(kernel_size=(1, 3, 1), num_convs=3, embed_channels=(512, 512, 2048)),
    train_cfg=None,  # the detector's train_cfg as it is (no mmtrack 1000-proposal override)
)

# ruff: noqa: C408  (OpenMMLab configs are written with dict(...))
# PSLA method (c) with Deformable R-FCN: the paper's best model (Table 1, 80.0 mAP, 72.2M
# parameters). As psla_rfcn_r101-dc5_8xb1-120k_imagenetvid.py plus, following
# Deformable-ConvNets' published resnet_v1_101_rfcn_dcn symbol: deformable convolutions
# (DCN v1, 4 deformable groups, zero-initialised offsets) in the 3x3 convs of res5a/b/c, and
# deformable position-sensitive RoI pooling (per-class offsets for the class maps, one shared
# offset for the box maps; part size 7, 4x4 samples per bin, offset scale 0.1).
#   tools/dist_train.sh configs/vid/psla/psla_rfcn-dcn_r101-dc5_8xb1-120k_imagenetvid.py 8
_base_ = ['./psla_rfcn_r101-dc5_8xb1-120k_imagenetvid.py']
model = dict(
    backbone=dict(
        dcn=dict(type='DCN', deform_groups=4, fallback_on_stride=False),
        stage_with_dcn=(False, False, False, True),
    ),
    roi_head=dict(bbox_head=dict(deformable=True, sample_per_part=4, trans_std=0.1)),
)

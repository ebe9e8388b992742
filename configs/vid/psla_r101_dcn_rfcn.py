# ruff: noqa: C408  (OpenMMLab configs are written with dict(...))
# PSLA method (c), ResNet-101 DC5 with deformable convolutions (DCN v1) in res5 and the
# paper's R-FCN head: the paper's best model (80.0 mAP, 72.2M parameters). Same data and
# schedule as psla_r101_dcn.py, whose Faster R-CNN head this replaces.
#   tools/dist_train.sh configs/vid/psla_r101_dcn_rfcn.py 8
_base_ = ['./psla_r101_rfcn.py']
model = dict(
    backbone=dict(
        dcn=dict(type='DCN', deform_groups=1, fallback_on_stride=False),
        stage_with_dcn=(False, False, False, True),
    )
)

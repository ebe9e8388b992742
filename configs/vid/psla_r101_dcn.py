# ruff: noqa: C408  (OpenMMLab configs are written with dict(...))
# PSLA method (c), ResNet-101 DC5 with deformable convolutions (DCN v1) in res5: the paper's
# best model (80.0 mAP with its R-FCN head). ImageNet VID + DET, 8 GPUs x 1 sample,
# key frame interval 10, d = 4; SGD lr 2.5e-4 for 80K iterations then 2.5e-5 for 40K.
#   tools/dist_train.sh configs/vid/psla_r101_dcn.py 8
_base_ = ['./psla_r101.py']
model = dict(
    backbone=dict(
        dcn=dict(type='DCN', deform_groups=1, fallback_on_stride=False),
        stage_with_dcn=(False, False, False, True),
    )
)

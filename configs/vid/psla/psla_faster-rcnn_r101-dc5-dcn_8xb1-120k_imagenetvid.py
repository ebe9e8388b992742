# ruff: noqa: C408  (OpenMMLab configs are written with dict(...))
# PSLA method (c), ResNet-101 DC5 with DCN v1 (4 deformable groups) in res5, Faster R-CNN
# head. Not the paper's DCN model (that is Deformable R-FCN:
# psla_rfcn-dcn_r101-dc5_8xb1-120k_imagenetvid.py).
#   tools/dist_train.sh configs/vid/psla/psla_faster-rcnn_r101-dc5-dcn_8xb1-120k_imagenetvid.py 8
_base_ = ['./psla_faster-rcnn_r101-dc5_8xb1-120k_imagenetvid.py']
model = dict(
    backbone=dict(
        dcn=dict(type='DCN', deform_groups=4, fallback_on_stride=False),
        stage_with_dcn=(False, False, False, True),
    )
)

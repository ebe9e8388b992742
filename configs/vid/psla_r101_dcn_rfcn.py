# ruff: noqa: C408  (OpenMMLab configs are written with dict(...))
# EXPERIMENTAL: the R-FCN head is unit-tested (PS-RoIAlign against a per-bin reference),
# but its accuracy is not validated: trained 1500 iterations on the toy set
# (configs/toy/psla_c_rfcn_toy.py) it collapsed to background (0.0 mAP@50), where the
# Faster R-CNN head reaches ~44. Use it for model-size comparisons; check training first.
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

# ruff: noqa: C408  (OpenMMLab configs are written with dict(...))
# The paper's best model (Table 1: 80.0 mAP, 72.2M): PSLA method (c) with Deformable R-FCN
# (deformable convs in res5, deformable PS-RoI pooling) on ResNet-101 DC5:
# configs/vid/psla/psla_rfcn-dcn_r101-dc5_8xb1-120k_imagenetvid.py. ImageNet VID + DET,
# 8 GPUs x 1 sample, l = 10, d = 4; SGD lr 2.5e-4 for 80K iterations then 2.5e-5 for 40K.
#   tools/dist_train.sh configs/vid/psla_r101_dcn.py 8
_base_ = ['./psla/psla_rfcn-dcn_r101-dc5_8xb1-120k_imagenetvid.py']

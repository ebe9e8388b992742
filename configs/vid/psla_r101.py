# ruff: noqa: C408  (OpenMMLab configs are written with dict(...))
# PSLA method (c), ResNet-101 DC5, the paper's RPN + R-FCN head (Table 1: 77.1 mAP, 63.7M):
# configs/vid/psla/psla_rfcn_r101-dc5_8xb1-120k_imagenetvid.py. The Faster R-CNN variant is
# configs/vid/psla/psla_faster-rcnn_r101-dc5_8xb1-120k_imagenetvid.py.
#   tools/dist_train.sh configs/vid/psla_r101.py 8
_base_ = ['./psla/psla_rfcn_r101-dc5_8xb1-120k_imagenetvid.py']

# ruff: noqa: C408  (OpenMMLab configs are written with dict(...))
# PSLA method (c), ResNet-101 DC5 (ImageNet-pretrained torchvision weights), Faster R-CNN
# head; ImageNet VID + DET, 8 GPUs x 1 sample, l = 10, d = 4, the paper's schedule.
#   tools/dist_train.sh configs/vid/psla_r101.py 8
_base_ = ['./psla_r50.py']
model = dict(
    backbone=dict(depth=101, init_cfg=dict(type='Pretrained', checkpoint='torchvision://resnet101'))
)

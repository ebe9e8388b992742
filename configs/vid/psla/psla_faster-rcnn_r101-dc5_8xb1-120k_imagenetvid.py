# ruff: noqa: C408  (OpenMMLab configs are written with dict(...))
# PSLA method (c), ResNet-101 DC5, Faster R-CNN head (see the R50 file of this name).
#   tools/dist_train.sh configs/vid/psla/psla_faster-rcnn_r101-dc5_8xb1-120k_imagenetvid.py 8
_base_ = ['./psla_faster-rcnn_r50-dc5_8xb1-120k_imagenetvid.py']
model = dict(
    backbone=dict(depth=101, init_cfg=dict(type='Pretrained', checkpoint='torchvision://resnet101'))
)

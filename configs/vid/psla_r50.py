# ruff: noqa: C408  (OpenMMLab configs are written with dict(...))
# PSLA method (c), ResNet-50 DC5 (torchvision ImageNet weights), the paper's RPN + R-FCN head;
# otherwise configs/vid/psla_r101.py. The Faster R-CNN variant is
# configs/vid/psla/psla_faster-rcnn_r50-dc5_8xb1-120k_imagenetvid.py.
#   tools/dist_train.sh configs/vid/psla_r50.py 8
_base_ = ['./psla/psla_rfcn_r101-dc5_8xb1-120k_imagenetvid.py']
model = dict(
    backbone=dict(depth=50, init_cfg=dict(type='Pretrained', checkpoint='torchvision://resnet50'))
)

# ruff: noqa: C408  (OpenMMLab configs are written with dict(...))
# PSLA method (c) as published (paper Table 1, 77.1 mAP, 63.7M parameters): ResNet-101
# (ImageNet-pretrained torchvision weights), DC5 res5, DFF's feat_conv_3x3 (dilation 6), RFU +
# DenseFT with PSLA (d = 4, 256-filter embeddings shared by RFU and DenseFT), RPN + R-FCN
# head (configs/_base_/models/psla_rfcn_r50_dc5.py). ImageNet VID + DET 1:1, 8 GPUs x one
# 3-frame sample, l = 10, SGD lr 2.5e-4 for 80K iterations then 2.5e-5 for 40K.
#   tools/dist_train.sh configs/vid/psla/psla_rfcn_r101-dc5_8xb1-120k_imagenetvid.py 8
_base_ = [
    '../../_base_/models/psla_rfcn_r50_dc5.py',
    '../../_base_/datasets/imagenet_vid_det_psla.py',
    '../../_base_/schedules/psla_sgd_120k.py',
    '../../_base_/default_runtime.py',
]
default_scope = 'mmdet'
custom_imports = dict(imports=['mmpsla'], allow_failed_imports=False)
model = dict(
    backbone=dict(depth=101, init_cfg=dict(type='Pretrained', checkpoint='torchvision://resnet101'))
)
train_dataloader = dict(batch_size=1)

# ruff: noqa: C408  (OpenMMLab configs are written with dict(...))
# EXPERIMENTAL: the R-FCN head is unit-tested (PS-RoIAlign against a per-bin reference),
# but its accuracy is not validated: trained 1500 iterations on the toy set
# (configs/toy/psla_c_rfcn_toy.py) it collapsed to background (0.0 mAP@50), where the
# Faster R-CNN head reaches ~44. Use it for model-size comparisons; check training first.
# PSLA method (c), ResNet-101 DC5 (ImageNet-pretrained torchvision weights) with the paper's
# R-FCN head N_t (RPN + R-FCN, k = 7, class-agnostic regression) instead of the Faster R-CNN
# head of psla_r101.py (otherwise the same: ImageNet VID + DET, 8 GPUs x 1 sample, l = 10,
# d = 4, the paper's schedule). ~1.8M head parameters instead of ~52M.
#   tools/dist_train.sh configs/vid/psla_r101_rfcn.py 8
_base_ = [
    '../_base_/models/psla_rfcn_r50_dc5.py',
    '../_base_/datasets/imagenet_vid_det_psla.py',
    '../_base_/schedules/psla_sgd_120k.py',
    '../_base_/default_runtime.py',
]
default_scope = 'mmdet'
custom_imports = dict(imports=['mmpsla'], allow_failed_imports=False)
model = dict(
    backbone=dict(depth=101, init_cfg=dict(type='Pretrained', checkpoint='torchvision://resnet101'))
)
train_dataloader = dict(batch_size=1)

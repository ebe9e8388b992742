# ruff: noqa: C408  (OpenMMLab configs are written with dict(...))
# Frame baseline as in the paper's Table 1 (R-FCN, 73.9 mAP, 59.6M parameters): PSLA's N_f
# (ResNet-101 DC5 + DFF's dilated feat_conv_3x3) and RPN + R-FCN head on every frame.
# Trained on the labelled frame of PSLA's samples with PSLA's data and schedule.
#   tools/dist_train.sh \
#     configs/vid/frame_baseline/frame-baseline_rfcn_r101-dc5_8xb1-120k_imagenetvid.py 8
_base_ = [
    '../../_base_/models/frame_rfcn_r50_dc5.py',
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

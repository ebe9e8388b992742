# ruff: noqa: C408  (OpenMMLab configs are written with dict(...))
# Frame baseline with the Faster R-CNN DC5 head (side by side with mmtrack): the N_f
# (ResNet-101 DC5 + 1024-ch feature conv, ImageNet-pretrained) and Faster R-CNN head of
# psla_faster-rcnn_r101-dc5_8xb1-120k_imagenetvid.py, run on every frame; trained on
# the labelled frame of PSLA's samples with PSLA's schedule and data, tested on all frames.
#   tools/dist_train.sh \
#     configs/vid/frame_baseline/frame-baseline_faster-rcnn_r101-dc5_8xb1-120k_imagenetvid.py 8
_base_ = [
    '../../_base_/models/frame_faster_rcnn_r50_dc5.py',
    '../../_base_/datasets/imagenet_vid_det_psla.py',
    '../../_base_/schedules/psla_sgd_120k.py',
    '../../_base_/default_runtime.py',
]
default_scope = 'mmdet'
custom_imports = dict(imports=['mmpsla'], allow_failed_imports=False)
model = dict(
    backbone=dict(
        depth=101, init_cfg=dict(type='Pretrained', checkpoint='torchvision://resnet101')
    ),
    roi_head=dict(bbox_head=dict(num_classes=30)),
)
train_dataloader = dict(batch_size=1)

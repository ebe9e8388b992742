# ruff: noqa: C408  (OpenMMLab configs are written with dict(...))
# PSLA method (c), ResNet-50 DC5, ImageNet VID + DET, 8 GPUs x 1 sample, key frame interval
# l = 10, d = 4, the paper's schedule (SGD lr 2.5e-4 for 80K iters, 2.5e-5 for 40K).
#   tools/dist_train.sh configs/vid/psla_r50.py 8
_base_ = [
    '../_base_/models/psla_faster_rcnn_r50_dc5.py',
    '../_base_/datasets/imagenet_vid_det_psla.py',
    '../_base_/schedules/psla_sgd_120k.py',
    '../_base_/default_runtime.py',
]
default_scope = 'mmdet'
custom_imports = dict(imports=['mmpsla'], allow_failed_imports=False)
model = dict(roi_head=dict(bbox_head=dict(num_classes=30)))
train_dataloader = dict(batch_size=1)

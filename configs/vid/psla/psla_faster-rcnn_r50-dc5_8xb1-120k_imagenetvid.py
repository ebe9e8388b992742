# ruff: noqa: C408  (OpenMMLab configs are written with dict(...))
# PSLA method (c) with a Faster R-CNN DC5 head instead of the paper's R-FCN (for the
# side-by-side with mmtrack's Faster R-CNN zoo): ResNet-50 DC5 + 3x3 feature conv (dilation
# 1), RPN (3x3 conv, 12 anchors) + RoIAlign + two 1024-d FCs. Same data and schedule as the
# paper's model (l = 10, d = 4, SGD lr 2.5e-4 for 80K iterations, 2.5e-5 for 40K).
#   tools/dist_train.sh configs/vid/psla/psla_faster-rcnn_r50-dc5_8xb1-120k_imagenetvid.py 8
_base_ = [
    '../../_base_/models/psla_faster_rcnn_r50_dc5.py',
    '../../_base_/datasets/imagenet_vid_det_psla.py',
    '../../_base_/schedules/psla_sgd_120k.py',
    '../../_base_/default_runtime.py',
]
default_scope = 'mmdet'
custom_imports = dict(imports=['mmpsla'], allow_failed_imports=False)
train_dataloader = dict(batch_size=1)

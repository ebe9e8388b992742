# ruff: noqa: C408  (OpenMMLab configs are written with dict(...))
# Frame baseline of the paper's Table 1 (R-FCN, 73.9 mAP, 59.6M): PSLA's N_f and RPN + R-FCN
# head on every frame: configs/vid/frame_baseline/frame-baseline_rfcn_r101-dc5_8xb1-120k_imagenetvid.py.
# The Faster R-CNN variant: frame_baseline/frame-baseline_faster-rcnn_r101-dc5_8xb1-120k_imagenetvid.py.
#   tools/dist_train.sh configs/vid/frame_baseline_r101_dc5.py 8
_base_ = ['./frame_baseline/frame-baseline_rfcn_r101-dc5_8xb1-120k_imagenetvid.py']

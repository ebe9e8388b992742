# ruff: noqa: C408  (OpenMMLab configs are written with dict(...))
# The toy R-FCN frame detector (frame_baseline_rfcn_toy.py) with one bias per output after the
# vote (RFCNBBoxHead bias='roi') instead of the score maps' per-bin biases: the second
# pretraining stage of psla_c_rfcn_roibias_toy.py.
_base_ = ['./frame_baseline_rfcn_toy.py']
model = dict(roi_head=dict(bbox_head=dict(bias='roi')))
pretrained_heads_config = 'configs/toy/frame_baseline_rfcn_roibias_toy.py'

# ruff: noqa: C408  (OpenMMLab configs are written with dict(...))
# Ablation: the toy R-FCN frame detector (frame_baseline_rfcn_toy.py) with the score maps' per-bin biases (bias='bin') and no hidden layer: the toy R-FCN head before this recipe;
# the second pretraining stage of psla_c_rfcn_binbias_toy.py.
_base_ = ['./frame_baseline_rfcn_toy.py']
model = dict(roi_head=dict(bbox_head=dict(bias='bin', hidden_channels=None)))
pretrained_heads_config = 'configs/toy/frame_baseline_rfcn_binbias_toy.py'

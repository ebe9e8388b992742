# ruff: noqa: C408  (OpenMMLab configs are written with dict(...))
# Ablation: the toy R-FCN frame detector (frame_baseline_rfcn_toy.py) with no hidden layer (one bias per output after the vote, as the default);
# the second pretraining stage of psla_c_rfcn_nohidden_toy.py.
_base_ = ['./frame_baseline_rfcn_toy.py']
model = dict(roi_head=dict(bbox_head=dict(hidden_channels=None)))
pretrained_heads_config = 'configs/toy/frame_baseline_rfcn_nohidden_toy.py'

# ruff: noqa: C408  (OpenMMLab configs are written with dict(...))
# Ablation: psla_c_rfcn_toy.py with the score maps' per-bin biases (bias='bin') and no hidden layer: the toy R-FCN head before this recipe.
# Measured 3 seeds in the header of psla_c_rfcn_toy.py (README, Model zoo):
#   python tools/compare.py --methods psla_c --seeds 3 \
#       --configs psla_c=configs/toy/psla_c_rfcn_binbias_toy.py --work-dir work_dirs/rfcn_binbias
_base_ = ['./psla_c_rfcn_toy.py']
model = dict(roi_head=dict(bbox_head=dict(bias='bin', hidden_channels=None)))
pretrained_heads_config = 'configs/toy/frame_baseline_rfcn_binbias_toy.py'

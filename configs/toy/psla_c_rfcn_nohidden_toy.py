# ruff: noqa: C408  (OpenMMLab configs are written with dict(...))
# Ablation: psla_c_rfcn_toy.py with no hidden layer (one bias per output after the vote, as the default).
# Measured 3 seeds in the header of psla_c_rfcn_toy.py (README, Model zoo):
#   python tools/compare.py --methods psla_c --seeds 3 \
#       --configs psla_c=configs/toy/psla_c_rfcn_nohidden_toy.py --work-dir work_dirs/rfcn_nohidden
_base_ = ['./psla_c_rfcn_toy.py']
model = dict(roi_head=dict(bbox_head=dict(hidden_channels=None)))
pretrained_heads_config = 'configs/toy/frame_baseline_rfcn_nohidden_toy.py'

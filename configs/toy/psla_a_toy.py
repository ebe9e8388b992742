# ruff: noqa: C408  (OpenMMLab configs are written with dict(...))
# PSLA method (a) on the toy set: propagation from the nearest key frame only
# (Transform Net + PSLA, no RFU, no Quality Net).
_base_ = ['./psla_c_toy.py']
model = dict(use_rfu=False, use_quality_net=False, rfu=None)

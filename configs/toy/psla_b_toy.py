# ruff: noqa: C408  (OpenMMLab configs are written with dict(...))
# PSLA method (b) on the toy set: RFU, DenseFT without the Quality Net.
_base_ = ['./psla_c_toy.py']
model = dict(use_rfu=True, use_quality_net=False)

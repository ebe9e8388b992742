# ruff: noqa: C408  (OpenMMLab configs are written with dict(...))
# Paper Fig. 6 point: psla_c.py with max displacement d = 5 (R-FCN head, ResNet-101 DC5, l = 10).
_base_ = ['./psla_c.py']
model = dict(
    rfu=dict(align=dict(max_displacement=5)),
    dense_ft=dict(align=dict(max_displacement=5)),
)

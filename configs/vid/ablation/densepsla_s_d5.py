# ruff: noqa: C408  (OpenMMLab configs are written with dict(...))
# Paper Table 3 row: densepsla_s.py with max displacement d = 5 (R-FCN head, ResNet-101 DC5, l = 10).
_base_ = ['./densepsla_s.py']
model = dict(
    dense_ft=dict(align=dict(max_displacement=5)),
)

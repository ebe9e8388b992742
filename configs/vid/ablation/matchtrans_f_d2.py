# ruff: noqa: C408  (OpenMMLab configs are written with dict(...))
# Paper Fig. 6 point: matchtrans_f.py with max displacement d = 2 (R-FCN head, ResNet-101 DC5, l = 10).
_base_ = ['./matchtrans_f.py']
model = dict(
    rfu=dict(align=dict(max_displacement=2)),
    dense_ft=dict(align=dict(max_displacement=2)),
)

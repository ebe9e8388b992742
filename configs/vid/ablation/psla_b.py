# ruff: noqa: C408  (OpenMMLab configs are written with dict(...))
# Ablation (paper Table 2/5), our method (b): + RFU.
# ResNet-101 DC5, key frame interval 10, d = 4 where it applies.
_base_ = ['../psla_r101.py']
align = dict(_delete_=True, type='PSLAAlign', embed_channels=256, max_displacement=4)
model = dict(
    use_rfu=True,
    use_quality_net=False,
    rfu=dict(align=align),
    dense_ft=dict(align=align),
)

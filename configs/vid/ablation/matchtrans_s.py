# ruff: noqa: C408  (OpenMMLab configs are written with dict(...))
# Ablation (paper Table 2/5), MatchTrans_S: propagation from the nearest key frame only (Transform Net + MatchTrans).
# ResNet-101 DC5, key frame interval 10, d = 4 where it applies.
_base_ = ['../psla_r101.py']
align = dict(_delete_=True, type='MatchTransAlign', embed_channels=256, max_displacement=4)
model = dict(
    use_rfu=False,
    use_quality_net=False,
    rfu=None,
    dense_ft=dict(align=align),
)

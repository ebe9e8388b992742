# ruff: noqa: C408  (OpenMMLab configs are written with dict(...))
# FGFA, ResNet-101 DC5 (torchvision ImageNet weights); otherwise configs/vid/fgfa_r50_dc5.py.
#   tools/dist_train.sh configs/vid/fgfa_r101_dc5.py 8
_base_ = ['./fgfa_r50_dc5.py']
model = dict(
    detector=dict(
        backbone=dict(
            depth=101, init_cfg=dict(type='Pretrained', checkpoint='torchvision://resnet101')
        )
    )
)

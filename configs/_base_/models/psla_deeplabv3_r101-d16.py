# ruff: noqa: C408  (OpenMMLab configs are written with dict(...))
# PSLA (method (c)) for video segmentation (paper Sec. 4.4): the detection framework with a
# DeepLabV3 head. N_f: ResNet-101, res5 dilated (output stride 16) + 3x3 conv to 1024
# channels; N_l: the same network up to res4b3. RFU and DenseFT as for detection (PSLA
# embeddings 256, d = 4). N_t: mmseg's ASPPHead (rates 6/12/18 at output stride 16).
# The detection parts are mmdet modules (built in mmdet's scope by the segmentor).
feat_channels = 1024
psla_align = dict(type='PSLAAlign', embed_channels=256, max_displacement=4)
norm_cfg = dict(type='SyncBN', requires_grad=True)
model = dict(
    type='PSLAVideoSegmentor',
    use_rfu=True,
    use_quality_net=True,
    data_preprocessor=dict(
        type='SegVideoDataPreProcessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        bgr_to_rgb=True,
        pad_val=0,
        seg_pad_val=255,
        size=(512, 1024),
    ),
    backbone=dict(
        type='PSLAResNet',
        depth=101,
        low_level_blocks=4,
        feat_channels=feat_channels,
        strides=(1, 2, 2, 1),
        dilations=(1, 1, 1, 2),
        frozen_stages=1,
        norm_cfg=dict(type='BN', requires_grad=False),
        norm_eval=True,
        style='pytorch',
        init_cfg=dict(type='Pretrained', checkpoint='torchvision://resnet101'),
    ),
    rfu=dict(type='RFU', in_channels=feat_channels, align=psla_align, update_channels=(256, 16)),
    dense_ft=dict(
        type='DenseFT',
        in_channels=1024,
        out_channels=feat_channels,
        transform_channels=(256, 256),
        align=psla_align,
        quality_channels=(256, 16),
    ),
    decode_head=dict(
        type='ASPPHead',
        in_channels=feat_channels,
        channels=512,
        dilations=(1, 6, 12, 18),
        dropout_ratio=0.1,
        num_classes=19,
        norm_cfg=norm_cfg,
        align_corners=False,
        loss_decode=dict(type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0),
    ),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'),
)
# DFF's DeepLab head (a 1x1 conv to 1024 channels + the classifier) instead of ASPP:
#   model = dict(decode_head=dict(_delete_=True, **dff_deeplab_head))
dff_deeplab_head = dict(
    type='FCNHead',
    in_channels=feat_channels,
    channels=1024,
    num_convs=1,
    kernel_size=1,
    concat_input=False,
    dropout_ratio=0.1,
    num_classes=19,
    norm_cfg=None,
    align_corners=False,
    loss_decode=dict(type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0),
)

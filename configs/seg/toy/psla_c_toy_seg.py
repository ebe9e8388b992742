# ruff: noqa: C408  (OpenMMLab configs are written with dict(...))
# PSLA (c) video segmentation on the toy set, CPU-sized: the tiny ResNet of the toy
# detection configs (BasicBlocks, stages 1/1/8/2, 32 base channels, GroupNorm, from
# scratch; N_l = stem + res2 + res3 + the first res4 block, so a key frame costs about 4x
# a non-key frame), a 128-channel feature conv, and mmseg's ASPPHead slimmed to 64
# channels with rates 1/2/3/4 (the 12x8 feature map of a 192x128 frame is too small for
# rates 6/12/18). Shorter runs: --cfg-options train_cfg.max_iters=20
# Measured (300 iterations, 1 thread, 3 seeds) from scratch: mIoU on degraded annotated
# frames 27.6 +- 2.3 vs the frame baseline's 29.8 +- 1.8; with the pretrained N_f of
# nf_pretrain_toy_seg.py (tools/demo_seg.py): 54.8 +- 1.4 (this loss) / 59.7 +- 0.8
# (key_frame_loss_weight=1) vs 46.8 +- 2.1, at 1.7x the baseline's fps (README).
_base_ = [
    '../../_base_/datasets/toy_seg.py',
    '../../_base_/seg_default_runtime.py',
]
feat_channels = 128
align = dict(type='PSLAAlign', embed_channels=64, max_displacement=4)
norm_cfg = dict(type='GN', num_groups=8, requires_grad=True)
model = dict(
    type='PSLAVideoSegmentor',
    use_rfu=True,
    use_quality_net=True,
    key_frame_loss_weight=0.0,  # the paper's loss: the non-key frame only
    data_preprocessor=dict(
        type='SegVideoDataPreProcessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        bgr_to_rgb=True,
        size_divisor=16,
        test_cfg=dict(size_divisor=16),
    ),
    backbone=dict(
        type='PSLAResNet',
        depth=18,
        stage_blocks=(1, 1, 8, 2),
        stem_channels=16,
        base_channels=32,
        low_level_blocks=1,
        feat_channels=feat_channels,
        strides=(1, 2, 2, 1),
        dilations=(1, 1, 1, 2),
        frozen_stages=-1,
        norm_cfg=norm_cfg,
        norm_eval=False,
        init_cfg=None,
    ),
    rfu=dict(type='RFU', in_channels=feat_channels, align=align, update_channels=(64, 16)),
    dense_ft=dict(
        type='DenseFT',
        in_channels=128,
        out_channels=feat_channels,
        transform_channels=(64, 64),
        align=align,
        quality_channels=(64, 16),
    ),
    decode_head=dict(
        type='ASPPHead',
        in_channels=feat_channels,
        channels=64,
        dilations=(1, 2, 3, 4),
        dropout_ratio=0.1,
        num_classes=5,
        norm_cfg=norm_cfg,
        align_corners=False,
        # the background covers about 2/3 of the pixels: weighted down so that training
        # does not settle on an all-background prediction
        loss_decode=dict(
            type='CrossEntropyLoss',
            use_sigmoid=False,
            loss_weight=1.0,
            class_weight=[0.3, 1.0, 1.0, 1.0, 1.0],
        ),
    ),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'),
)

max_iters = 300
train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters, val_interval=max_iters)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=50),
    dict(type='PolyLR', eta_min=1e-5, power=0.9, begin=50, end=max_iters, by_epoch=False),
]
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=0.002, weight_decay=0.0001),
    clip_grad=dict(max_norm=10, norm_type=2),
)
default_hooks = dict(
    logger=dict(interval=20),
    checkpoint=dict(by_epoch=False, interval=max_iters, max_keep_ckpts=1),
)
log_processor = dict(window_size=20)
env_cfg = dict(cudnn_benchmark=False, dist_cfg=dict(backend='gloo'))
randomness = dict(seed=0)

# ruff: noqa: C408  (OpenMMLab configs are written with dict(...))
# PSLA method (c) (RFU + DenseFT with Quality Net) on the toy VID dataset, CPU-sized.
# A tiny ResNet (BasicBlocks, stages of 1/1/8/2 blocks, 32 base channels, 16-channel stem,
# GroupNorm, trained from scratch with AdamW) keeps the paper's proportions: N_l = stem +
# res2 + res3 + the first res4 block (like R101's res4b3, a small prefix); N_f adds seven
# res4 blocks, a dilated res5 (DC5, stride 16) and the feature conv, so a key frame costs
# about 4x a non-key frame. The head is slimmed (128-d FCs, 30 test proposals) because
# on a CPU its fixed cost would otherwise dominate both detectors.
# Trained from scratch, the head must also learn to read F_t itself, which is what a key
# frame's detections come from: key_frame_loss_weight=1.0 adds the loss on k2's F_t (not in
# the paper, whose N_f is ImageNet-pretrained). Measured on the toy set (seed 0, 1500 iters,
# one thread): without it key frames scored 1.7 mAP@50 and the Quality Net gave the
# propagated feature 18 % weight; with it PSLA (c) reached 47.6 mAP@50 / 24.6 on degraded
# frames (weight 0.5: 36.5 / 18.5; weight 0: 34.6 / 16.0). Over 5 seeds: 44.4 / 25.0 vs the
# frame baseline's 43.2 / 21.3 (README). The ImageNet configs keep the paper's recipe (0).
# From the pretrained N_f (configs/toy/nf_pretrain_toy.py, the tools' default recipe) the
# loss is still needed: seed 0, 600 iterations, weight 0 -> 29.8 / 17.4 (key frames 14.6),
# weight 1 -> 37.6 / 21.2 (frame baseline 40.8 / 20.5), so the tools keep 1.0.
# Shorter runs (tests, the lead's resume / dist_train checks):
#   --cfg-options train_cfg.max_iters=20
# (MultiStepLR milestones beyond max_iters simply never fire).
_base_ = [
    '../_base_/models/psla_faster_rcnn_r50_dc5.py',
    '../_base_/datasets/toy_vid.py',
    '../_base_/default_runtime.py',
]
default_scope = 'mmdet'
custom_imports = dict(imports=['mmpsla'], allow_failed_imports=False)

feat_channels = 128
num_classes = 4
align = dict(type='PSLAAlign', embed_channels=64, max_displacement=4)
norm_cfg = dict(type='GN', num_groups=8, requires_grad=True)

model = dict(
    key_frame_loss_weight=1.0,
    # the readings these toy numbers were measured with (README); the paper's readings
    # (one shared f/g, Quality Net on F_l, Transform Net shortcut) are the class defaults
    share_align=False,
    data_preprocessor=dict(pad_size_divisor=16),
    backbone=dict(
        depth=18,
        stage_blocks=(1, 1, 8, 2),
        stem_channels=16,
        base_channels=32,
        low_level_blocks=1,
        feat_channels=feat_channels,
        frozen_stages=-1,
        norm_cfg=norm_cfg,
        norm_eval=False,
        init_cfg=None,
    ),
    rfu=dict(in_channels=feat_channels, align=align, update_channels=(64, 16)),
    dense_ft=dict(
        in_channels=128,
        out_channels=feat_channels,
        transform_channels=(64, 64),
        align=align,
        quality_channels=(64, 16),
        quality_input='transform',
        transform_shortcut=False,
    ),
    rpn_head=dict(
        in_channels=feat_channels,
        feat_channels=128,
        anchor_generator=dict(scales=[1, 2, 4], ratios=[0.5, 1.0, 2.0], strides=[16]),
    ),
    roi_head=dict(
        bbox_roi_extractor=dict(roi_layer=dict(sampling_ratio=0), out_channels=feat_channels),
        bbox_head=dict(in_channels=feat_channels, fc_out_channels=128, num_classes=num_classes),
    ),
    train_cfg=dict(
        rpn_proposal=dict(nms_pre=1000, max_per_img=200),
        rcnn=dict(sampler=dict(num=64)),
    ),
    test_cfg=dict(
        rpn=dict(nms_pre=300, max_per_img=30),
        rcnn=dict(score_thr=0.01, max_per_img=20),
    ),
)

train_dataloader = dict(batch_size=2, num_workers=0, persistent_workers=False)
val_dataloader = dict(num_workers=0, persistent_workers=False)
test_dataloader = dict(num_workers=0, persistent_workers=False)

max_iters = 1500
train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters, val_interval=max_iters)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=100),
    dict(type='MultiStepLR', by_epoch=False, begin=0, end=10**9, milestones=[1100], gamma=0.1),
]
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=0.002, weight_decay=0.0001),
    clip_grad=dict(max_norm=10, norm_type=2),
)

default_hooks = dict(
    logger=dict(interval=20),
    checkpoint=dict(by_epoch=False, interval=500, max_keep_ckpts=1),
)
log_processor = dict(window_size=20)
env_cfg = dict(dist_cfg=dict(backend='gloo'))
randomness = dict(seed=0)

# ruff: noqa: C408  (OpenMMLab configs are written with dict(...))
# PSLA (method (c)) on a ResNet-50 DC5 backbone with a Faster R-CNN head N_t.
# N_f: ResNet-50 (res5 stride 1, dilation 2) + 3x3 conv to 1024 channels -> F_h (stride 16).
# N_l: the same network up to res4b3 (stem, res2, res3, res4a-res4b3) -> F_l (1024 ch).
# Embeddings f, g: 1x1 convs with 256 filters; PSLA max displacement d = 4.
feat_channels = 1024
psla_align = dict(type='PSLAAlign', embed_channels=256, max_displacement=4)
model = dict(
    type='PSLAVideoDetector',
    use_rfu=True,
    use_quality_net=True,
    data_preprocessor=dict(
        type='TrackDataPreprocessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        bgr_to_rgb=True,
        pad_size_divisor=16,
    ),
    backbone=dict(
        type='PSLAResNet',
        depth=50,
        low_level_blocks=4,
        feat_channels=feat_channels,
        strides=(1, 2, 2, 1),
        dilations=(1, 1, 1, 2),
        frozen_stages=1,
        norm_cfg=dict(type='BN', requires_grad=False),
        norm_eval=True,
        style='pytorch',
        init_cfg=dict(type='Pretrained', checkpoint='torchvision://resnet50'),
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
    rpn_head=dict(
        type='RPNHead',
        in_channels=feat_channels,
        feat_channels=512,
        anchor_generator=dict(
            type='AnchorGenerator', scales=[4, 8, 16, 32], ratios=[0.5, 1.0, 2.0], strides=[16]
        ),
        bbox_coder=dict(
            type='DeltaXYWHBBoxCoder', target_means=[0.0] * 4, target_stds=[1.0, 1.0, 1.0, 1.0]
        ),
        loss_cls=dict(type='CrossEntropyLoss', use_sigmoid=True, loss_weight=1.0),
        loss_bbox=dict(type='SmoothL1Loss', beta=1.0 / 9.0, loss_weight=1.0),
    ),
    roi_head=dict(
        type='StandardRoIHead',
        bbox_roi_extractor=dict(
            # mmdet's SingleRoIExtractor with RoIAlign from mmpsla.ops: mmcv's numbers, a
            # compiled CPU kernel (mmcv's is ~9x slower on CPU; mmcv's kernel on CUDA)
            type='OpsSingleRoIExtractor',
            roi_layer=dict(type='RoIAlign', output_size=7, sampling_ratio=2),
            out_channels=feat_channels,
            featmap_strides=[16],
        ),
        bbox_head=dict(
            type='Shared2FCBBoxHead',
            in_channels=feat_channels,
            fc_out_channels=1024,
            roi_feat_size=7,
            num_classes=30,
            bbox_coder=dict(
                type='DeltaXYWHBBoxCoder',
                target_means=[0.0] * 4,
                target_stds=[0.2, 0.2, 0.2, 0.2],
            ),
            reg_class_agnostic=True,
            loss_cls=dict(type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0),
            loss_bbox=dict(type='SmoothL1Loss', beta=1.0, loss_weight=1.0),
        ),
    ),
    train_cfg=dict(
        rpn=dict(
            assigner=dict(
                type='MaxIoUAssigner',
                pos_iou_thr=0.7,
                neg_iou_thr=0.3,
                min_pos_iou=0.3,
                match_low_quality=True,
                ignore_iof_thr=-1,
            ),
            sampler=dict(
                type='RandomSampler',
                num=256,
                pos_fraction=0.5,
                neg_pos_ub=-1,
                add_gt_as_proposals=False,
            ),
            allowed_border=0,
            pos_weight=-1,
            debug=False,
        ),
        rpn_proposal=dict(
            nms_pre=6000,
            max_per_img=600,
            nms=dict(type='mmpsla.ops.nms', iou_threshold=0.7),
            min_bbox_size=0,
        ),
        rcnn=dict(
            assigner=dict(
                type='MaxIoUAssigner',
                pos_iou_thr=0.5,
                neg_iou_thr=0.5,
                min_pos_iou=0.5,
                match_low_quality=False,
                ignore_iof_thr=-1,
            ),
            sampler=dict(
                type='RandomSampler',
                num=256,
                pos_fraction=0.25,
                neg_pos_ub=-1,
                add_gt_as_proposals=True,
            ),
            pos_weight=-1,
            debug=False,
        ),
    ),
    # NMS: 'mmpsla.ops.nms' is mmcv's NMS (same boxes kept) with a compiled CPU kernel
    # (mmcv's kernel on CUDA); see mmpsla/models/nms_config.py
    test_cfg=dict(
        rpn=dict(
            nms_pre=6000,
            max_per_img=300,
            nms=dict(type='mmpsla.ops.nms', iou_threshold=0.7),
            min_bbox_size=0,
        ),
        rcnn=dict(
            score_thr=0.0001, nms=dict(type='mmpsla.ops.nms', iou_threshold=0.5), max_per_img=100
        ),
    ),
)

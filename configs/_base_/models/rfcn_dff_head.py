# ruff: noqa: C408  (OpenMMLab configs are written with dict(...))
# The paper's task network N_t (Sec. 3.5): RPN + R-FCN as in DFF [43], following DFF's
# published network (resnet_v1_101_flownet_rfcn.py and
# resnet_v1_101_flownet_imagenet_vid_rfcn_end2end_ohem.yaml):
# - N_f ends in feat_conv_3x3: 3x3, dilation 6, 1024 channels, ReLU (after a DC5 res5);
# - the RPN reads channels [0, 512) with two 1x1 convs (no 3x3 rpn_conv), 9 anchors
#   (scales 8/16/32 at stride 16, ratios 0.5/1/2, py-faster-rcnn centring), 2-way softmax,
#   targets normalised by (0.1, 0.1, 0.4, 0.4), smooth L1 (sigma 1);
# - R-FCN reads channels [512, 1024): 1x1 convs to 7x7 position-sensitive maps
#   (7*7*31 class, 7*7*4 class-agnostic box channels), PS-RoIAlign, average voting,
#   targets normalised by (0.1, 0.1, 0.2, 0.2);
# - 300 proposals (6000 before NMS 0.7) in training and test; OHEM: the 128 hardest RoIs
#   per image (mmdet's OHEMSampler); test NMS 0.3, score > 1e-4, at most 300 boxes.
# Differences that remain are listed in README.md (Model zoo).
# Variables only (no `model`): a config lists this file beside its model base and uses them
# as {{_base_.rfcn_*}}; their '_delete_' replaces the Faster R-CNN parts they land on.
rfcn_feat_channels = 1024
rfcn_feat_conv_dilation = 6
rfcn_rpn_head = dict(
    _delete_=True,
    type='SliceRPNHead',
    in_channels=rfcn_feat_channels,
    feat_slice=(0, 512),
    num_convs=0,
    anchor_generator=dict(
        type='LegacyAnchorGenerator',
        center_offset=0.5,
        scales=[8, 16, 32],
        ratios=[0.5, 1.0, 2.0],
        strides=[16],
    ),
    bbox_coder=dict(
        type='DeltaXYWHBBoxCoder', target_means=[0.0] * 4, target_stds=[0.1, 0.1, 0.4, 0.4]
    ),
    loss_cls=dict(type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0),
    loss_bbox=dict(type='SmoothL1Loss', beta=1.0, loss_weight=1.0),
)
rfcn_roi_head = dict(
    _delete_=True,
    type='RFCNRoIHead',
    bbox_head=dict(
        type='RFCNBBoxHead',
        in_channels=rfcn_feat_channels,
        feat_slice=(512, 1024),
        roi_feat_size=7,
        num_classes=30,
        featmap_stride=16,
        sampling_ratio=2,
        bbox_coder=dict(
            type='DeltaXYWHBBoxCoder', target_means=[0.0] * 4, target_stds=[0.1, 0.1, 0.2, 0.2]
        ),
        reg_class_agnostic=True,
        loss_cls=dict(type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0),
        loss_bbox=dict(type='SmoothL1Loss', beta=1.0, loss_weight=1.0),
    ),
)
rfcn_train_cfg = dict(
    rpn_proposal=dict(nms_pre=6000, max_per_img=300),
    rcnn=dict(
        sampler=dict(
            _delete_=True,
            type='OHEMSampler',
            num=128,
            pos_fraction=0.25,
            neg_pos_ub=-1,
            add_gt_as_proposals=True,
        )
    ),
)
rfcn_test_cfg = dict(
    rpn=dict(nms_pre=6000, max_per_img=300),
    rcnn=dict(score_thr=1e-4, nms=dict(type='mmpsla.ops.nms', iou_threshold=0.3), max_per_img=300),
)

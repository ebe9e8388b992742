# ruff: noqa: C408  (OpenMMLab configs are written with dict(...))
# SELSA (sequence-level semantics aggregation, Wu et al. ICCV 2019) on the toy VID set, side by
# side with configs/toy/psla_c_toy.py: the same N_f (tiny ResNet + feature conv), RPN, RoI
# extractor, box coder and losses, schedule and data; the box head's two 128-d shared FCs
# each aggregate the reference frames' proposals (16 attention heads), as mmtrack's SELSA
# R50 config does with 1024-d FCs.
# Training: FGFA's samples (configs/toy/fgfa_toy.py: the target and one reference frame on
# each side within 9 frames, mmtrack's fgfa-style sampler). Test: 14 reference frames spread
# evenly over the whole video, chosen at its first frame (mmtrack's
# 'test_with_adaptive_stride'), plus the current frame.
_base_ = ['./fgfa_toy.py']

selsa_bbox_head = dict(
    type='SelsaBBoxHead',
    num_shared_fcs=2,
    in_channels={{_base_.feat_channels}},
    fc_out_channels=128,
    roi_feat_size=7,
    num_classes={{_base_.num_classes}},
    bbox_coder={{_base_.model.detector.roi_head.bbox_head.bbox_coder}},
    reg_class_agnostic=True,
    loss_cls={{_base_.model.detector.roi_head.bbox_head.loss_cls}},
    loss_bbox={{_base_.model.detector.roi_head.bbox_head.loss_bbox}},
    aggregator=dict(type='SelsaAggregator', in_channels=128, num_attention_blocks=16),
)
model = dict(
    _delete_=True,
    type='SELSA',
    data_preprocessor={{_base_.model.data_preprocessor}},
    detector=dict(
        type='FasterRCNN',
        backbone={{_base_.model.detector.backbone}},
        rpn_head={{_base_.model.detector.rpn_head}},
        roi_head=dict(
            type='SelsaRoIHead',
            bbox_roi_extractor={{_base_.model.detector.roi_head.bbox_roi_extractor}},
            bbox_head=selsa_bbox_head,
        ),
        train_cfg={{_base_.model.detector.train_cfg}},
        test_cfg={{_base_.model.detector.test_cfg}},
    ),
)

test_pipeline = [
    dict(type='VIDRefFrameSample', method='test_with_adaptive_stride', num_ref_imgs=14),
    dict(
        type='TransformBroadcaster',
        transforms=[
            dict(type='LoadImageFromFile'),
            dict(type='Resize', scale={{_base_.img_scale}}, keep_ratio=True),
            dict(type='LoadTrackAnnotations'),
        ],
    ),
    # the window keys matter when the sampler is the fixed-stride one (the per-frame API)
    dict(
        type='PackTrackInputs',
        meta_keys=('num_left_ref_imgs', 'num_right_ref_imgs', 'frame_stride', 'is_degraded'),
    ),
]
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader

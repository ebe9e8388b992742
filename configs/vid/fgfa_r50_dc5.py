# ruff: noqa: C408  (OpenMMLab configs are written with dict(...))
# FGFA (Zhu et al., ICCV 2017), ResNet-50 DC5, ImageNet VID + DET, 8 GPUs x 1 sample, with
# mmtrack 1.x's FGFA settings (fgfa_faster-rcnn_r50-dc5_8xb1-7e_imagenetvid): FlowNet-S on
# half-resolution frames, one embedding conv, 2 bilateral references within 9 frames in
# training, a 15 + 1 + 15 frame window at test, 7 epochs, SGD lr 0.01 (x0.1 after epochs
# 2 and 5), 500-iteration linear warm-up.
# N_f and the task head are PSLA's (configs/vid/psla_r50.py): 1024-channel features (the
# embedding net works on 1024 channels; mmtrack's on 512), the same Faster R-CNN head.
#   tools/dist_train.sh configs/vid/fgfa_r50_dc5.py 8
_base_ = [
    '../_base_/models/psla_faster_rcnn_r50_dc5.py',
    '../_base_/datasets/imagenet_vid_fgfa_style.py',
    '../_base_/default_runtime.py',
]
default_scope = 'mmdet'
custom_imports = dict(imports=['mmpsla'], allow_failed_imports=False)

flownet_ckpt = 'https://download.openmmlab.com/mmtracking/pretrained_weights/flownet_simple.pth'
num_left_ref_imgs = 15
num_right_ref_imgs = 15
model = dict(
    _delete_=True,
    type='FGFA',
    data_preprocessor={{_base_.model.data_preprocessor}},
    detector=dict(
        type='FasterRCNN',
        backbone={{_base_.model.backbone}},
        rpn_head={{_base_.model.rpn_head}},
        roi_head={{_base_.model.roi_head}},
        train_cfg={{_base_.model.train_cfg}},
        test_cfg={{_base_.model.test_cfg}},
    ),
    motion=dict(
        type='FlowNetSimple',
        img_scale_factor=0.5,
        init_cfg=dict(type='Pretrained', checkpoint=flownet_ckpt),
    ),
    aggregator=dict(
        type='EmbedAggregator', num_convs=1, channels={{_base_.feat_channels}}, kernel_size=3
    ),
)

# mmtrack's test window: 15 frames on each side (the data base config uses 7)
test_pipeline = [
    dict(
        type='VIDRefFrameSample',
        method='test_with_fix_stride',
        frame_range=[-num_left_ref_imgs, num_right_ref_imgs],
        stride=1,
    ),
    dict(
        type='TransformBroadcaster',
        transforms=[
            dict(type='LoadImageFromFile', backend_args={{_base_.backend_args}}),
            dict(type='Resize', scale={{_base_.img_scale}}, keep_ratio=True),
            dict(type='LoadTrackAnnotations'),
        ],
    ),
    dict(
        type='PackTrackInputs',
        meta_keys=('frame_stride', 'num_left_ref_imgs', 'num_right_ref_imgs'),
    ),
]
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader

train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=7, val_interval=7)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
param_scheduler = [
    dict(type='LinearLR', start_factor=1.0 / 3, by_epoch=False, begin=0, end=500),
    dict(type='MultiStepLR', begin=0, end=7, by_epoch=True, milestones=[2, 5], gamma=0.1),
]
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr=0.01, momentum=0.9, weight_decay=0.0001),
    clip_grad=dict(max_norm=35, norm_type=2),
)
auto_scale_lr = dict(enable=False, base_batch_size=8)
default_hooks = dict(checkpoint=dict(by_epoch=True, interval=1, max_keep_ckpts=3))
log_processor = dict(by_epoch=True)

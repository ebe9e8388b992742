# DFF (Deep Feature Flow) on the toy VID set, side by side with configs/toy/psla_c_toy.py:
# the same N_f (tiny ResNet + feature conv), the same Faster R-CNN head and schedule.
# Toy-only deviation: FlowNet-S at 1/8 of its channel widths (width_mult=0.125, ~0.6M
# parameters instead of 38.7M) and trained from scratch, so it trains on a 2-core CPU in
# minutes; the ImageNet VID configs (configs/vid/dff_*.py) use the full FlowNet-S.
_base_ = ['./psla_c_toy.py']

key_frame_interval = 10
model = dict(
    _delete_=True,
    type='DFF',
    data_preprocessor={{_base_.model.data_preprocessor}},
    detector=dict(
        type='FasterRCNN',
        backbone={{_base_.model.backbone}},
        rpn_head={{_base_.model.rpn_head}},
        roi_head={{_base_.model.roi_head}},
        train_cfg={{_base_.model.train_cfg}},
        test_cfg={{_base_.model.test_cfg}},
    ),
    motion=dict(type='FlowNetSimple', img_scale_factor=0.5, width_mult=0.125),
    train_cfg=None,
    test_cfg=dict(key_frame_interval=key_frame_interval),
)

# training pairs [key frame, target]: the key frame uniform in [n - 9, n + 9]
train_pipeline = [
    dict(
        type='VIDRefFrameSample',
        num_ref_imgs=1,
        frame_range=9,
        filter_key_img=False,
        method='uniform',
    ),
    dict(
        type='TransformBroadcaster',
        share_random_params=True,
        transforms=[
            dict(type='LoadImageFromFile'),
            dict(type='LoadTrackAnnotations'),
            dict(type='Resize', scale={{_base_.img_scale}}, keep_ratio=True),
            dict(type='RandomFlip', prob=0.5),
        ],
    ),
    dict(type='PackTrackInputs', meta_keys=('is_degraded',)),
]
# streaming test: one frame per step; the model makes every key_frame_interval-th frame
# (the first of each segment) a key frame, no look-ahead
test_pipeline = [
    dict(
        type='VIDRefFrameSample',
        method='test_key_frame_interval',
        key_frame_interval=key_frame_interval,
    ),
    dict(
        type='TransformBroadcaster',
        transforms=[
            dict(type='LoadImageFromFile'),
            dict(type='Resize', scale={{_base_.img_scale}}, keep_ratio=True),
            dict(type='LoadTrackAnnotations'),
        ],
    ),
    dict(type='PackTrackInputs', meta_keys=('key_frame_id', 'is_key_frame', 'is_degraded')),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader

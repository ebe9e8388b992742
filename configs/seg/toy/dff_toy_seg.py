# ruff: noqa: C408  (OpenMMLab configs are written with dict(...))
# DFF on the toy segmentation set: the same N_f and ASPP head as psla_c_toy_seg.py; a
# FlowNet-S at 1/8 of its widths (toy-only, trained from scratch, as configs/toy/dff_toy.py)
# warps the key frame's feature to the annotated frame.
_base_ = ['./psla_c_toy_seg.py']
model = dict(
    _delete_=True,
    type='DFFSegmentor',
    data_preprocessor={{_base_.model.data_preprocessor}},
    backbone={{_base_.model.backbone}},
    decode_head={{_base_.model.decode_head}},
    motion=dict(type='FlowNetSimple', img_scale_factor=0.5, width_mult=0.125),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'),
)
train_dataloader = dict(
    dataset=dict(
        pipeline=[
            dict(type='SegClipFrameSample', key_frame_interval=5, num_key_frames=1),
            dict(
                type='TransformBroadcaster',
                share_random_params=True,
                transforms={{_base_.frame_transforms}},
            ),
            dict(type='PackSegClipInputs'),
        ]
    )
)
val_dataloader = dict(
    dataset=dict(
        pipeline=[
            dict(type='SegKeyFrameSchedule', key_frame_interval=5, max_key_frames=1),
            dict(type='TransformBroadcaster', transforms={{_base_.test_frame_transforms}}),
            dict(type='PackSegClipInputs'),
        ]
    )
)
test_dataloader = val_dataloader

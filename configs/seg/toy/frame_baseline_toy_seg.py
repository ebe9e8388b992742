# ruff: noqa: C408  (OpenMMLab configs are written with dict(...))
# Frame baseline on the toy segmentation set: the same N_f and ASPP head as
# psla_c_toy_seg.py, on the annotated frame alone.
_base_ = ['./psla_c_toy_seg.py']
model = dict(
    _delete_=True,
    type='FrameBaselineSegmentor',
    data_preprocessor={{_base_.model.data_preprocessor}},
    backbone={{_base_.model.backbone}},
    decode_head={{_base_.model.decode_head}},
    train_cfg=dict(),
    test_cfg=dict(mode='whole'),
)
train_dataloader = dict(
    dataset=dict(
        pipeline=[
            dict(type='SegClipFrameSample', num_key_frames=0),
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
            dict(type='SegKeyFrameSchedule', max_key_frames=0),
            dict(type='TransformBroadcaster', transforms={{_base_.test_frame_transforms}}),
            dict(type='PackSegClipInputs'),
        ]
    )
)
test_dataloader = val_dataloader

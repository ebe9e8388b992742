# ruff: noqa: C408  (OpenMMLab configs are written with dict(...))
# The frame baseline of Table 6 (72.1 mIoU, 6.2 fps on a TITAN V, quoted): the same N_f
# (R101 output stride 16 + 1024-channel feature conv) and ASPP head, on the annotated
# frame alone (clips of one frame).
_base_ = ['./psla_deeplabv3_r101-d16_8xb1-80k_cityscapes-video.py']
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

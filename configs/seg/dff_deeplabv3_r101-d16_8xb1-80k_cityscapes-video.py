# ruff: noqa: C408  (OpenMMLab configs are written with dict(...))
# DFF re-implemented in the same setting (Table 6: 69.8 mIoU, 15.4 fps on a TITAN V,
# quoted): the same N_f and ASPP head; non-key frames warp the key frame's feature with
# FlowNet-S (on frames at half resolution). Training clips [n, k], k within half an
# interval of n; test: the annotated frame and its key frame of the middle schedule.
# FlowNet-S is initialised from mmtrack's published Flying-Chairs weights (download).
_base_ = ['./psla_deeplabv3_r101-d16_8xb1-80k_cityscapes-video.py']
model = dict(
    _delete_=True,
    type='DFFSegmentor',
    data_preprocessor={{_base_.model.data_preprocessor}},
    backbone={{_base_.model.backbone}},
    decode_head={{_base_.model.decode_head}},
    motion=dict(
        type='FlowNetSimple',
        img_scale_factor=0.5,
        init_cfg=dict(
            type='Pretrained',
            checkpoint=(
                'https://download.openmmlab.com/mmtracking/pretrained_weights/' 'flownet_simple.pth'
            ),
        ),
    ),
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

# ruff: noqa: C408  (OpenMMLab configs are written with dict(...))
# The embedded toy video-segmentation set in the CityScapes layout
# (`python tools/make_toy_seg.py --out data/toy_seg`): 192x128 frames, 30-frame snippets
# annotated at position 19, background + 4 classes, the annotated frame degraded in about
# half of the snippets (`is_degraded`), key frames clean. Key frame interval l = 5; the
# test schedule is the middle one (the key frame 2 frames before the annotated one).
default_scope = 'mmseg'
custom_imports = dict(imports=['mmpsla'], allow_failed_imports=False)

dataset_type = 'ToySegVideoDataset'
data_root = 'data/toy_seg/'
key_frame_interval = 5
frame_transforms = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadClipAnnotations'),
    dict(type='RandomFlip', prob=0.5),
]
test_frame_transforms = [dict(type='LoadImageFromFile'), dict(type='LoadClipAnnotations')]
train_pipeline = [
    dict(type='SegClipFrameSample', key_frame_interval=key_frame_interval, num_key_frames=2),
    dict(type='TransformBroadcaster', share_random_params=True, transforms=frame_transforms),
    dict(type='PackSegClipInputs'),
]
test_pipeline = [
    dict(type='SegKeyFrameSchedule', key_frame_interval=key_frame_interval, offset='middle'),
    dict(type='TransformBroadcaster', transforms=test_frame_transforms),
    dict(type='PackSegClipInputs'),
]
train_dataloader = dict(
    batch_size=4,
    num_workers=0,
    persistent_workers=False,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        data_prefix=dict(img_path='leftImg8bit_sequence/train', seg_map_path='gtFine/train'),
        pipeline=train_pipeline,
    ),
)
val_dataloader = dict(
    batch_size=1,
    num_workers=0,
    persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        data_prefix=dict(img_path='leftImg8bit_sequence/val', seg_map_path='gtFine/val'),
        test_mode=True,
        pipeline=test_pipeline,
    ),
)
test_dataloader = val_dataloader
val_evaluator = dict(
    type='SubsetIoUMetric', iou_metrics=['mIoU'], subsets=dict(degraded='is_degraded')
)
test_evaluator = val_evaluator

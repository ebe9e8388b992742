# ruff: noqa: C408  (OpenMMLab configs are written with dict(...))
# CityScapes video snippets: leftImg8bit_sequence (30 frames around every annotated frame)
# + gtFine labelTrainIds (cityscapesscripts' createTrainIdLabelImgs), under data/cityscapes/.
# Training clips [n, k1, k2] around the annotated frame n (key frame interval l = 5); the
# same random resize / crop / flip for every frame of a clip (drawn on n). Test clips: the
# annotated frame and the key frames of the middle schedule (offset 2 at l = 5).
default_scope = 'mmseg'
custom_imports = dict(imports=['mmpsla'], allow_failed_imports=False)

dataset_type = 'CityscapesVideoDataset'
data_root = 'data/cityscapes/'
key_frame_interval = 5
crop_size = (512, 1024)
frame_transforms = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadClipAnnotations'),
    dict(type='RandomResize', scale=(2048, 1024), ratio_range=(0.5, 2.0), keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size, cat_max_ratio=0.75),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PhotoMetricDistortion'),
]
train_pipeline = [
    dict(type='SegClipFrameSample', key_frame_interval=key_frame_interval, num_key_frames=2),
    dict(type='TransformBroadcaster', share_random_params=True, transforms=frame_transforms),
    dict(type='PackSegClipInputs'),
]
test_frame_transforms = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(2048, 1024), keep_ratio=True),
    dict(type='LoadClipAnnotations'),
]
test_pipeline = [
    dict(type='SegKeyFrameSchedule', key_frame_interval=key_frame_interval, offset='middle'),
    dict(type='TransformBroadcaster', transforms=test_frame_transforms),
    dict(type='PackSegClipInputs'),
]
train_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
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
    num_workers=2,
    persistent_workers=True,
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
val_evaluator = dict(type='IoUMetric', iou_metrics=['mIoU'])
test_evaluator = val_evaluator

# ruff: noqa: C408  (OpenMMLab configs are written with dict(...))
# The embedded default: the procedural toy VID set (`python tools/make_toy_vid.py
# --out data/toy_vid`). 192x128 frames, 4 classes, ~30 % degraded frames
# (`is_degraded`), CocoVID JSON. Detector configs override the frame samplers they need
# (DFF/FGFA use VIDRefFrameSample).
default_scope = 'mmdet'
custom_imports = dict(imports=['mmpsla'], allow_failed_imports=False)

dataset_type = 'ToyVIDDataset'
data_root = 'data/toy_vid/'
backend_args = None
img_scale = (192, 128)  # (w, h): the toy frame size, i.e. no rescaling
key_frame_interval = 10  # l of the PSLA paper

train_pipeline = [
    # 3 frames [k1, k2, n], key_frame_flags [False, False, True] (paper §4.1)
    dict(type='PSLATrainFrameSample', key_frame_interval=key_frame_interval),
    dict(
        type='TransformBroadcaster',
        share_random_params=True,  # the same flip for the 3 frames of a sample
        transforms=[
            dict(type='LoadImageFromFile', backend_args=backend_args),
            dict(type='LoadTrackAnnotations'),
            dict(type='Resize', scale=img_scale, keep_ratio=True),
            dict(type='RandomFlip', prob=0.5),
        ],
    ),
    dict(type='PackTrackInputs', meta_keys=('is_degraded',)),
]
test_pipeline = [
    # key frame = middle of each l-frame segment, attached ahead of time (paper §3)
    dict(type='PSLAKeyFrameSchedule', key_frame_interval=key_frame_interval, mode='middle'),
    dict(
        type='TransformBroadcaster',
        transforms=[
            dict(type='LoadImageFromFile', backend_args=backend_args),
            dict(type='Resize', scale=img_scale, keep_ratio=True),
            dict(type='LoadTrackAnnotations'),
        ],
    ),
    dict(type='PackTrackInputs', meta_keys=('key_frame_id', 'is_key_frame', 'is_degraded')),
]

train_dataloader = dict(
    batch_size=4,
    num_workers=2,
    persistent_workers=True,
    # every annotated frame once per epoch as the labelled frame n
    sampler=dict(type='TargetFrameSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='annotations/train.json',
        data_prefix=dict(img_path='Data/'),
        filter_cfg=dict(filter_empty_gt=True, min_size=32),
        pipeline=train_pipeline,
    ),
)
val_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    # frames of each video one by one, in order (the model keeps state)
    sampler=dict(type='TrackImgSampler'),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='annotations/val.json',
        data_prefix=dict(img_path='Data/'),
        test_mode=True,
        pipeline=test_pipeline,
    ),
)
test_dataloader = val_dataloader

val_evaluator = dict(type='VIDMetric', ann_file=data_root + 'annotations/val.json')
test_evaluator = val_evaluator

# ruff: noqa: C408  (OpenMMLab configs are written with dict(...))
# ImageNet VID + DET for the DFF baseline (mmtrack's imagenet_vid_dff_style). Prepare the
# annotations as in imagenet_vid_det_psla.py.
#
# Training: the target frame i plus one reference (key) frame drawn from [i-9, i+9]
# without i (VIDRefFrameSample 'uniform'; packed [ref, i], key_frame_flags [False, True]);
# a DET image is the same frame twice. Test: a key frame every 10 frames, the first of
# each segment, no look-ahead ('test_key_frame_interval': one frame per step, metainfo
# is_key_frame / key_frame_id).
default_scope = 'mmdet'
custom_imports = dict(imports=['mmpsla'], allow_failed_imports=False)

dataset_type = 'ImagenetVIDDataset'
data_root = 'data/ILSVRC/'
backend_args = None
img_scale = (1000, 600)  # shorter side 600, longer side at most 1000 (as mmtrack)
key_frame_interval = 10

train_pipeline = [
    dict(type='VIDRefFrameSample', method='uniform', num_ref_imgs=1, frame_range=9),
    dict(
        type='TransformBroadcaster',
        share_random_params=True,  # one resize / flip for all frames of a sample
        transforms=[
            dict(type='LoadImageFromFile', backend_args=backend_args),
            dict(type='LoadTrackAnnotations'),
            dict(type='Resize', scale=img_scale, keep_ratio=True),
            dict(type='RandomFlip', prob=0.5),
        ],
    ),
    dict(type='PackTrackInputs'),
]
test_pipeline = [
    dict(
        type='VIDRefFrameSample',
        method='test_key_frame_interval',
        key_frame_interval=key_frame_interval,
    ),
    dict(
        type='TransformBroadcaster',
        transforms=[
            dict(type='LoadImageFromFile', backend_args=backend_args),
            dict(type='Resize', scale=img_scale, keep_ratio=True),
            dict(type='LoadTrackAnnotations'),
        ],
    ),
    dict(type='PackTrackInputs', meta_keys=('key_frame_id', 'is_key_frame')),
]

train_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='TargetFrameSampler', shuffle=True),
    dataset=dict(
        type='VideoConcatDataset',
        datasets=[
            dict(
                type=dataset_type,
                data_root=data_root,
                ann_file='annotations/imagenet_vid_train.json',
                data_prefix=dict(img_path='Data/VID'),
                only_vid_train_frames=True,  # targets: 15 frames per video
                pipeline=train_pipeline,
            ),
            dict(
                type=dataset_type,
                data_root=data_root,
                ann_file='annotations/imagenet_det_30cls.json',
                data_prefix=dict(img_path='Data/DET'),
                pipeline=train_pipeline,
            ),
        ],
    ),
)
val_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='TrackImgSampler'),  # frames of a video in order, on one GPU
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='annotations/imagenet_vid_val.json',
        data_prefix=dict(img_path='Data/VID'),
        test_mode=True,
        pipeline=test_pipeline,
    ),
)
test_dataloader = val_dataloader

val_evaluator = dict(type='VIDMetric', ann_file=data_root + 'annotations/imagenet_vid_val.json')
test_evaluator = val_evaluator

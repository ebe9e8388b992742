# ruff: noqa: C408  (OpenMMLab configs are written with dict(...))
# ImageNet VID + DET for PSLA (paper §4.1). Prepare the annotations with
#   python tools/dataset_converters/imagenet2coco_vid.py -i data/ILSVRC -o data/ILSVRC/annotations
#   python tools/dataset_converters/imagenet2coco_det.py -i data/ILSVRC -o data/ILSVRC/annotations
# Layout: data/ILSVRC/{Data/VID, Data/DET, annotations/*.json}.
#
# Training sample: a labelled non-key frame n and key frames k1 in [n-l, n-l/2],
# k2 in [n-l/2, n+l/2] (PSLATrainFrameSample, packed [k1, k2, n]); a DET image is the same
# frame three times. VID targets are the 15-frames-per-video subset (~57k frames) and DET
# the 30-class subset (~53k images), so TargetFrameSampler over their concatenation draws
# VID:DET at about 1:1 as in the paper. Batch: one 3-frame sample per GPU.
default_scope = 'mmdet'
custom_imports = dict(imports=['mmpsla'], allow_failed_imports=False)

dataset_type = 'ImagenetVIDDataset'
data_root = 'data/ILSVRC/'
backend_args = None
img_scale = (1000, 600)  # shorter side 600, longer side at most 1000 (as mmtrack)
key_frame_interval = 10

train_pipeline = [
    dict(type='PSLATrainFrameSample', key_frame_interval=key_frame_interval),
    dict(
        type='TransformBroadcaster',
        share_random_params=True,  # one resize / flip for the 3 frames of a sample
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
    # the paper's test schedule: key frame = middle of each l-frame segment
    dict(type='PSLAKeyFrameSchedule', key_frame_interval=key_frame_interval, mode='middle'),
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

# ruff: noqa: C408  (OpenMMLab configs are written with dict(...))
# ImageNet VID + DET for the FGFA baseline (mmtrack's imagenet_vid_fgfa_style). Prepare the
# annotations as in imagenet_vid_det_psla.py.
#
# Training: the target frame i plus one reference frame on each side, drawn from
# [i-9, i-1] and [i+1, i+9] (VIDRefFrameSample 'bilateral_uniform'; packed
# [ref_before, ref_after, i], key_frame_flags [False, False, True]); a DET image is the
# same frame three times. Test: FGFA's fixed-stride window of 7 + 1 + 7 frames around the
# current one ('test_with_fix_stride': the first frame brings frames 0..7, each later
# frame brings the one entering the window; the model caches their features).
default_scope = 'mmdet'
custom_imports = dict(imports=['mmpsla'], allow_failed_imports=False)

dataset_type = 'ImagenetVIDDataset'
data_root = 'data/ILSVRC/'
backend_args = None
img_scale = (1000, 600)  # shorter side 600, longer side at most 1000 (as mmtrack)

train_pipeline = [
    dict(type='VIDRefFrameSample', method='bilateral_uniform', num_ref_imgs=2, frame_range=9),
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
    dict(type='VIDRefFrameSample', method='test_with_fix_stride', frame_range=[-7, 7], stride=1),
    dict(
        type='TransformBroadcaster',
        transforms=[
            dict(type='LoadImageFromFile', backend_args=backend_args),
            dict(type='Resize', scale=img_scale, keep_ratio=True),
            dict(type='LoadTrackAnnotations'),
        ],
    ),
    dict(
        type='PackTrackInputs',
        meta_keys=('frame_stride', 'num_left_ref_imgs', 'num_right_ref_imgs'),
    ),
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

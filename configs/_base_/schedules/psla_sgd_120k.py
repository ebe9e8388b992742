# ruff: noqa: C408  (OpenMMLab configs are written with dict(...))
# The paper's schedule (Sec. 3.5), for 8 GPUs x 1 sample: SGD, lr 2.5e-4 for 80K iterations,
# then 2.5e-5 for the last 40K (120K in all).
train_cfg = dict(type='IterBasedTrainLoop', max_iters=120000, val_interval=120000)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')

param_scheduler = [
    dict(type='LinearLR', start_factor=1.0 / 3, by_epoch=False, begin=0, end=500),
    dict(type='MultiStepLR', by_epoch=False, begin=0, end=120000, milestones=[80000], gamma=0.1),
]

optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr=2.5e-4, momentum=0.9, weight_decay=0.0001),
    clip_grad=dict(max_norm=35, norm_type=2),
)
# lr 2.5e-4 is for a total batch of 8 samples (8 GPUs x 1)
auto_scale_lr = dict(enable=False, base_batch_size=8)

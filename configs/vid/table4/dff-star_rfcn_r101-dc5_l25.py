# ruff: noqa: C408  (OpenMMLab configs are written with dict(...))
# Paper Table 4: DFF* (the PSLA authors' DFF: here DFF's R-FCN network,
# configs/vid/dff/dff_rfcn_r101-dc5_8xb1-7e_imagenetvid.py) trained AND tested at key frame
# interval l = 25: the reference (key) frame of a training sample lies within l - 1 frames,
# and at test the key frame is the middle of each l-frame segment (PSLAKeyFrameSchedule,
# mode='middle', as for PSLA; DFF's own schedule takes the first). Paper: 72.2 / 69.7 / 67.5
# mAP at l = 15 / 25 / 35. The training schedule is DFF's (7 epochs, mmtrack 1.x).
#   tools/dist_train.sh configs/vid/table4/dff-star_rfcn_r101-dc5_l25.py 8
# mmengine replaces lists whole, so the base's pipelines are edited through `_base_`
# (the merged base config, a variable in mmengine .py configs) instead of being rewritten.
_base_ = ['../dff/dff_rfcn_r101-dc5_8xb1-7e_imagenetvid.py']
key_frame_interval = 25
model = dict(test_cfg=dict(key_frame_interval=key_frame_interval))
train_dataloader = _base_.train_dataloader
for _vid_or_det in train_dataloader.dataset.datasets:
    _vid_or_det.pipeline[0].frame_range = key_frame_interval - 1  # VIDRefFrameSample
test_dataloader = _base_.test_dataloader
test_dataloader.dataset.pipeline[0] = dict(
    type='PSLAKeyFrameSchedule', key_frame_interval=key_frame_interval, mode='middle'
)
val_dataloader = test_dataloader
train_pipeline = train_dataloader.dataset.datasets[0].pipeline
test_pipeline = test_dataloader.dataset.pipeline
del _vid_or_det

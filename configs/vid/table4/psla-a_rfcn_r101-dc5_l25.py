# ruff: noqa: C408  (OpenMMLab configs are written with dict(...))
# Paper Table 4: PSLA method (a) (configs/vid/ablation/psla_a.py: Transform Net + PSLA from the
# nearest key frame, d = 4, R101 DC5, R-FCN) trained AND tested at key frame interval l = 25
# (training samples k1 in [n - l, n - l/2], k2 in [n - l/2, n + l/2]; test key frame = middle
# of each l-frame segment). Paper: 72.9 / 70.5 / 68.5 mAP at l = 15 / 25 / 35.
#   tools/dist_train.sh configs/vid/table4/psla-a_rfcn_r101-dc5_l25.py 8
# mmengine replaces lists whole, so the base's pipelines are edited through `_base_`
# (the merged base config, a variable in mmengine .py configs) instead of being rewritten.
_base_ = ['../ablation/psla_a.py']
key_frame_interval = 25
train_dataloader = _base_.train_dataloader
for _vid_or_det in train_dataloader.dataset.datasets:
    _vid_or_det.pipeline[0].key_frame_interval = key_frame_interval  # PSLATrainFrameSample
test_dataloader = _base_.test_dataloader
test_dataloader.dataset.pipeline[0].key_frame_interval = key_frame_interval  # schedule
val_dataloader = test_dataloader
train_pipeline = train_dataloader.dataset.datasets[0].pipeline
test_pipeline = test_dataloader.dataset.pipeline
del _vid_or_det

# ruff: noqa: C408  (OpenMMLab configs are written with dict(...))
# The README's worked example of the custom-dataset workflow, CPU-sized: the toy PSLA (c)
# model trained on the 4 toy classes (`make demo` writes work_dirs/demo/psla_c/iter_1500.pth)
# fine-tuned on a slice of the toy set exported to the simple layout with 2 classes
# (data/custom_demo: frames/<video>/*.jpg, annotations/{train,val}.json). The same
# structure as configs/vid/custom/psla_r50_custom.py, on the toy model.
_base_ = ['../../toy/psla_c_toy.py']

classes = ('disc', 'square')
data_root = 'data/custom_demo/'
metainfo = dict(classes=classes)
load_from = 'work_dirs/demo/psla_c/iter_1500.pth'
custom_hooks = [dict(type='AdaptClassHeadHook')]

model = dict(roi_head=dict(bbox_head=dict(num_classes=len(classes))))

custom_dataset = dict(
    type='ImagenetVIDDataset', data_root=data_root, data_prefix=dict(img_path='frames/'),
    metainfo=metainfo,
)  # fmt: skip
train_dataloader = dict(dataset=dict(ann_file='annotations/train.json', **custom_dataset))
val_dataloader = dict(dataset=dict(ann_file='annotations/val.json', **custom_dataset))
test_dataloader = val_dataloader
val_evaluator = dict(ann_file=data_root + 'annotations/val.json')
test_evaluator = val_evaluator

max_iters = 300
train_cfg = dict(max_iters=max_iters, val_interval=max_iters)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=50),
    dict(type='MultiStepLR', by_epoch=False, begin=0, end=10**9, milestones=[200], gamma=0.1),
]
default_hooks = dict(checkpoint=dict(interval=max_iters))

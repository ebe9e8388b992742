# ruff: noqa: C408  (OpenMMLab configs are written with dict(...))
# Template: PSLA (c) R-50 DC5 fine-tuned on your own videos. Convert each split first
# (README, "Custom datasets"):
#   python tools/dataset_converters/custom2coco_vid.py --frames data/my_vid/frames \
#     --ann data/my_vid/train.csv --out data/my_vid/annotations/train.json --classes car person
#   (the same for val.csv -> annotations/val.json, with the same --classes)
# then edit `classes`, `data_root` and `load_from` below and run
#   tools/dist_train.sh configs/vid/custom/psla_r50_custom.py 8
# `load_from` may hold any class list: AdaptClassHeadHook copies the rows of the classes it
# shares with `classes` by name and re-initialises the others, and logs which layers it
# resized or re-initialised. No DET images are mixed in (the ImageNet configs mix them
# in because VID alone has few distinct objects, paper §4.1).
_base_ = ['../psla_r50.py']

classes = ('car', 'person')  # your classes, in label order (the converter's --classes)
data_root = 'data/my_vid/'
metainfo = dict(classes=classes)
load_from = 'work_dirs/psla_r50/iter_120000.pth'  # a trained mmpsla checkpoint
custom_hooks = [dict(type='AdaptClassHeadHook')]

model = dict(roi_head=dict(bbox_head=dict(num_classes=len(classes))))

train_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='ImagenetVIDDataset',
        data_root=data_root,
        ann_file='annotations/train.json',
        data_prefix=dict(img_path='frames/'),
        metainfo=metainfo,
        pipeline={{_base_.train_pipeline}},
    )
)
val_dataloader = dict(
    dataset=dict(
        data_root=data_root,
        ann_file='annotations/val.json',
        data_prefix=dict(img_path='frames/'),
        metainfo=metainfo,
    )
)
test_dataloader = val_dataloader
# the custom converter writes continuous box edges (box_convention='continuous')
val_evaluator = dict(ann_file=data_root + 'annotations/val.json')
test_evaluator = val_evaluator

# fine-tuning: a tenth of the paper's schedule (for 8 GPUs x 1 sample)
train_cfg = dict(max_iters=12000, val_interval=4000)
param_scheduler = [
    dict(type='LinearLR', start_factor=1.0 / 3, by_epoch=False, begin=0, end=500),
    dict(type='MultiStepLR', by_epoch=False, begin=0, end=12000, milestones=[8000], gamma=0.1),
]

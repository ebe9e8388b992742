# ruff: noqa: C408  (OpenMMLab configs are written with dict(...))
# Pretraining stage of the toy segmentation recipe: the stand-in for the paper's
# ImageNet-pretrained N_f (Sec. 4.1 / 4.4), as configs/toy/nf_pretrain_toy.py is for
# detection. The toy frame-baseline segmentor (frame_baseline_toy_seg.py: the tiny ResNet
# N_f + feature conv + ASPP head) is trained on the toy seg train split's annotated frames
# with a seed of its own; mmpsla.apis.experiment.ensure_pretrained_nf(data_root,
# cfg_path=SEG_NF_PRETRAIN_CONFIG) saves it in work_dirs/pretrained_nf/nf_<fingerprint>.pth,
# and tools/demo_seg.py loads its backbone (N_f, keys backbone.*) from that one file into
# PSLA / the frame baseline / DFF, every seed (model.backbone.init_cfg =
# dict(type='Pretrained', checkpoint=..., prefix='backbone.')); the ASPP head (unless
# --pretrained-heads), RFU, DenseFT and FlowNet start fresh. The validation split is never
# seen.
# By hand:
#   python tools/train.py configs/seg/toy/nf_pretrain_toy_seg.py --work-dir work_dirs/nf_seg
#   then any toy seg config with --cfg-options model.backbone.init_cfg.type=Pretrained
#        model.backbone.init_cfg.checkpoint=work_dirs/nf_seg/iter_800.pth
#        model.backbone.init_cfg.prefix=backbone.
_base_ = ['./frame_baseline_toy_seg.py']
max_iters = 800
train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters, val_interval=max_iters)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=50),
    dict(type='PolyLR', eta_min=1e-5, power=0.9, begin=50, end=max_iters, by_epoch=False),
]
default_hooks = dict(checkpoint=dict(by_epoch=False, interval=max_iters, max_keep_ckpts=1))
randomness = dict(seed=0)

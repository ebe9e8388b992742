# ruff: noqa: C408  (OpenMMLab configs are written with dict(...))
# Pretraining stage of the toy recipe: the stand-in for the paper's ImageNet-pretrained N_f
# (Sec. 4.1: "N_f ... pretrained on ImageNet"; the video framework is trained on top of it).
# The toy set has no ImageNet, so the toy frame detector (configs/toy/frame_baseline_toy.py:
# the tiny ResNet N_f + feature conv, RPN, RoI head) is trained on the train split's
# labelled frames with a seed of its own; mmpsla.apis.experiment.ensure_pretrained_nf saves
# it in work_dirs/pretrained_nf/nf_<fingerprint>.pth, and the tools load its backbone (N_f)
# from that one file into every method and every seed (model[.detector].backbone.init_cfg =
# dict(type='Pretrained', checkpoint=..., prefix='backbone.')), as one set of ImageNet
# weights is shared in reality. The RPN / RoI head / PSLA modules start fresh, as in the
# paper; with --pretrained-heads the RPN and RoI head come from the frame detector too.
# Why a detector rather than a classifier on toy crops: N_f's output at stride 16 is what
# every head reads, and the frame detector trains exactly that map on the same frames with
# no extra code; the validation split is never seen.
# By hand:
#   python tools/train.py configs/toy/nf_pretrain_toy.py --work-dir work_dirs/nf_pretrain
#   then --cfg-options model.backbone.init_cfg._delete_=True model.backbone.init_cfg.type=Pretrained
#        model.backbone.init_cfg.checkpoint=work_dirs/nf_pretrain/iter_1500.pth
#        model.backbone.init_cfg.prefix=backbone.   (any toy config; DFF / FGFA / SELSA:
#        model.detector.backbone.init_cfg...)
_base_ = ['./frame_baseline_toy.py']
randomness = dict(seed=0)

# ruff: noqa: C408  (OpenMMLab configs are written with dict(...))
# Frame-by-frame baseline on the toy set with the R-FCN head of configs/toy/psla_c_rfcn_toy.py
# (same N_f, RPN and summed-vote R-FCN RoI head), run on every frame.
# It is also the second pretraining stage of the toy recipe for the R-FCN configs
# (``pretrained_heads_config`` in psla_c_rfcn_toy.py): started from the first stage's frame
# detector (configs/toy/nf_pretrain_toy.py, whose RoI head is a Faster R-CNN head), it trains
# an R-FCN head on the same N_f, so that --pretrained-heads gives the R-FCN methods
# pretrained heads of their own type (mmpsla.apis.experiment.ensure_pretrained_heads); it
# inherits pretrained_heads_config = this file, so as a compared method it fine-tunes that
# stage's detector, as the Faster R-CNN frame baseline fine-tunes the first stage's.
#   python tools/train.py configs/toy/frame_baseline_rfcn_toy.py --cfg-options train_cfg.max_iters=40
_base_ = ['./psla_c_rfcn_toy.py']
model = dict(
    _delete_=True,
    type='FrameBaselineDetector',
    data_preprocessor={{_base_.model.data_preprocessor}},
    backbone={{_base_.model.backbone}},
    rpn_head={{_base_.model.rpn_head}},
    roi_head={{_base_.model.roi_head}},
    train_cfg={{_base_.model.train_cfg}},
    test_cfg={{_base_.model.test_cfg}},
)

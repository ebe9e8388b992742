# ruff: noqa: C408  (OpenMMLab configs are written with dict(...))
# EXPERIMENTAL: the R-FCN head is unit-tested (PS-RoIAlign against a per-bin reference),
# but its accuracy is not validated: trained 1500 iterations on the toy set
# (configs/toy/psla_c_rfcn_toy.py) it collapsed to background (0.0 mAP@50), where the
# Faster R-CNN head reaches ~44. Use it for model-size comparisons; check training first.
# PSLA method (c) on the toy VID dataset (psla_c_toy.py) with the R-FCN head: 1x1 convs on
# the 128-channel F to k*k*(4+1) and k*k*4 position-sensitive maps (k = 7), PS-RoIAlign
# with adaptive sampling (like the toy RoIAlign), average voting.
#   python tools/train.py configs/toy/psla_c_rfcn_toy.py --cfg-options train_cfg.max_iters=40
_base_ = ['./psla_c_toy.py']
model = dict(
    roi_head=dict(
        _delete_=True,
        type='RFCNRoIHead',
        bbox_head=dict(
            type='RFCNBBoxHead',
            in_channels=128,
            roi_feat_size=7,
            num_classes=4,
            featmap_stride=16,
            sampling_ratio=0,
            # the box coder and losses of the Faster R-CNN head this one replaces
            bbox_coder={{_base_.model.roi_head.bbox_head.bbox_coder}},
            reg_class_agnostic=True,
            loss_cls={{_base_.model.roi_head.bbox_head.loss_cls}},
            loss_bbox={{_base_.model.roi_head.bbox_head.loss_bbox}},
        ),
    )
)

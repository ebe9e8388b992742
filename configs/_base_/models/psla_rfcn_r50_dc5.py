# ruff: noqa: C408  (OpenMMLab configs are written with dict(...))
# EXPERIMENTAL: the R-FCN head is unit-tested (PS-RoIAlign against a per-bin reference),
# but its accuracy is not validated: trained 1500 iterations on the toy set
# (configs/toy/psla_c_rfcn_toy.py) it collapsed to background (0.0 mAP@50), where the
# Faster R-CNN head reaches ~44. Use it for model-size comparisons; check training first.
# PSLA (method (c)) on a ResNet-50 DC5 backbone with the paper's R-FCN head N_t (RPN + R-FCN,
# Dai et al. 2016) instead of the two-FC Faster R-CNN head: two 1x1 convs on F (1024 ch,
# stride 16) give position-sensitive score maps (k*k*(30+1) classification, k*k*4
# class-agnostic regression channels, k = 7), pooled per RoI by PS-RoIAlign and averaged.
# Box coder, losses and the train / test settings are those of the Faster R-CNN base.
_base_ = ['./psla_faster_rcnn_r50_dc5.py']
model = dict(
    roi_head=dict(
        _delete_=True,
        type='RFCNRoIHead',
        bbox_head=dict(
            type='RFCNBBoxHead',
            in_channels=1024,
            roi_feat_size=7,
            num_classes=30,
            featmap_stride=16,
            sampling_ratio=2,
            # the box coder and losses of the Faster R-CNN head this one replaces
            bbox_coder={{_base_.model.roi_head.bbox_head.bbox_coder}},
            reg_class_agnostic=True,
            loss_cls={{_base_.model.roi_head.bbox_head.loss_cls}},
            loss_bbox={{_base_.model.roi_head.bbox_head.loss_bbox}},
        ),
    )
)

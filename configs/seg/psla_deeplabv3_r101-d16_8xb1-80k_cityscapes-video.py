# ruff: noqa: C408  (OpenMMLab configs are written with dict(...))
# PSLA (c) on CityScapes video (paper Sec. 4.4, Table 6: 71.9 mIoU, 11.6 fps on a TITAN V,
# quoted): R101 output stride 16, DeepLabV3 ASPP head, key frame interval l = 5, 8 GPUs x
# 1 clip [n, k1, k2], mmseg's 80k poly schedule. Test: the annotated frame with the key
# frames of the middle schedule (SegKeyFrameSchedule; offset 2 at l = 5). Other schedules:
#   --cfg-options test_dataloader.dataset.pipeline.0.offset=worst           # offset l - 1
#   --cfg-options test_dataloader.dataset.key_frame_offsets="[0,1,2,3,4]" \
#                 test_dataloader.dataset.pipeline.0.offset=average         # all offsets
_base_ = [
    '../_base_/models/psla_deeplabv3_r101-d16.py',
    '../_base_/datasets/cityscapes_video.py',
    '../_base_/seg_default_runtime.py',
    '../_base_/schedules/seg_poly_80k.py',
]

# ruff: noqa: C408  (OpenMMLab configs are written with dict(...))
# psla_c_rfcn_toy.py with one bias per output after the summed vote (RFCNBBoxHead bias='roi'):
# with the score maps' per-bin biases (bias='bin') the summed vote moves each output's bias
# k*k = 49 times faster under Adam than a linear layer's; with 'roi' the head is exactly a
# linear layer on the 7x7 position-sensitive samples.
_base_ = ['./psla_c_rfcn_toy.py']
model = dict(roi_head=dict(bbox_head=dict(bias='roi')))
pretrained_heads_config = 'configs/toy/frame_baseline_rfcn_roibias_toy.py'

"""The ImageNet VID frame baseline is PSLA R101 minus the propagation modules."""

from psla_test_utils import build_model

from mmpsla.apis import count_parameters


def test_frame_baseline_r101_is_psla_without_rfu_and_dense_ft():
    baseline = build_model('vid/frame_baseline_r101_dc5.py')
    psla = build_model('vid/psla_r101.py')
    assert type(baseline).__name__ == 'FrameBaselineDetector'
    assert baseline.backbone.depth == 101
    propagation = count_parameters(psla.rfu) + count_parameters(psla.dense_ft)
    assert propagation > 0
    assert count_parameters(baseline) == count_parameters(psla) - propagation

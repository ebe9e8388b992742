"""The ImageNet VID frame baseline is PSLA R101 minus the propagation modules."""

from psla_test_utils import build_model

from mmpsla.apis import count_parameters


def test_frame_baseline_r101_is_psla_without_rfu_and_dense_ft():
    baseline = build_model('vid/frame_baseline_r101_dc5.py')
    psla = build_model('vid/psla_r101.py')
    assert type(baseline).__name__ == 'FrameBaselineDetector'
    assert baseline.backbone.depth == 101
    # RFU and DenseFT share one alignment module (share_align): count its weights once
    unique = {id(p): p.numel() for m in (psla.rfu, psla.dense_ft) for p in m.parameters()}
    propagation = sum(unique.values())
    assert propagation > 0 and psla.dense_ft.align is psla.rfu.align
    assert count_parameters(baseline) == count_parameters(psla) - propagation

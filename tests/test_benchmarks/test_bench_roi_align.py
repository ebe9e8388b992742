"""benchmarks/bench_roi_align.py at the toy size: both kernels timed, the same outputs."""

import pytest


def test_bench_roi_align_prints_both_kernels_and_their_difference(tool, capsys):
    rows = tool('bench_roi_align', folder='benchmarks').main(
        ['--threads', '1', '--repeats', '1', '--sizes', 'toy head (C 128, 8x12, 30 RoIs)']
    )
    assert [r['part'] for r in rows] == ['fwd', 'f+b']
    for r in rows:
        assert r['mmcv_ms'] > 0 and r['mmpsla_ms'] > 0
        assert r['ratio'] == pytest.approx(r['mmcv_ms'] / r['mmpsla_ms'])
        assert r['max_diff'] < 1e-5
    out = capsys.readouterr().out
    assert '| toy head (C 128, 8x12, 30 RoIs) | 1 | fwd |' in out and 'mmcv / mmpsla' in out

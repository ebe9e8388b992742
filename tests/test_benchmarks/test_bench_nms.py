"""benchmarks/bench_nms.py at the toy size: both kernels timed, the same boxes kept."""

import pytest


def test_bench_nms_prints_both_kernels_and_that_they_agree(tool, capsys):
    rows = tool('bench_nms', folder='benchmarks').main(
        [
            '--repeats',
            '1',
            '--sizes',
            'toy RPN test (300 boxes)',
            'toy box head (30 RoIs x 4 classes)',
        ]
    )
    assert [r['size'] for r in rows] == [
        'toy RPN test (300 boxes)',
        'toy box head (30 RoIs x 4 classes)',
    ]
    for r in rows:
        assert r['mmcv_ms'] > 0 and r['mmpsla_ms'] > 0 and 0 < r['kept'] <= 300
        assert r['ratio'] == pytest.approx(r['mmcv_ms'] / r['mmpsla_ms'])
        assert r['same'] is True
    out = capsys.readouterr().out
    assert '| toy RPN test (300 boxes) |' in out and 'mmcv / mmpsla' in out

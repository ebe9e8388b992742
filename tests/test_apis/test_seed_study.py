"""Seed-study aggregation (mmpsla.apis.seed_study) on given numbers."""

import math
import statistics

import pytest

from mmpsla.apis.seed_study import (
    format_seed_study,
    mean_sd,
    rows_by_seed_from_json,
    summarize_seeds,
)


def _row(key, label, m, deg, fps):
    return dict(key=key, method=label, mAP=m, mAP_degraded=deg, fps=fps)


ROWS = {
    0: [_row('frame_baseline', 'Frame baseline', 0.40, 0.20, 50.0),
        _row('psla_c', 'PSLA (c)', 0.45, 0.26, 80.0)],
    1: [_row('frame_baseline', 'Frame baseline', 0.50, 0.25, 40.0),
        _row('psla_c', 'PSLA (c)', 0.48, 0.27, 70.0)],
    2: [_row('frame_baseline', 'Frame baseline', 0.42, 0.18, 45.0),
        _row('psla_c', 'PSLA (c)', 0.47, 0.22, 72.0)],
}  # fmt: skip


def test_mean_sd_matches_the_sample_formula():
    mean, sd = mean_sd([1.0, 2.0, 4.0])
    assert mean == pytest.approx(7 / 3)
    assert sd == pytest.approx(statistics.stdev([1.0, 2.0, 4.0]))
    assert sd == pytest.approx(
        math.sqrt(((1 - 7 / 3) ** 2 + (2 - 7 / 3) ** 2 + (4 - 7 / 3) ** 2) / 2)
    )
    one = mean_sd([0.3])
    assert one[0] == 0.3 and math.isnan(one[1])
    with pytest.raises(ValueError, match='no values'):
        mean_sd([])


def test_summary_pairs_differences_by_seed():
    s = summarize_seeds(ROWS)
    assert s['seeds'] == [0, 1, 2]
    base = s['methods']['frame_baseline']
    assert base['mAP']['mean'] == pytest.approx((0.40 + 0.50 + 0.42) / 3)
    assert base['mAP_degraded']['sd'] == pytest.approx(statistics.stdev([0.20, 0.25, 0.18]))
    deg = s['diffs']['frame_baseline']['mAP_degraded']
    assert deg['per_seed'] == pytest.approx({0: 0.06, 1: 0.02, 2: 0.04})
    assert deg['mean'] == pytest.approx(0.04) and deg['sd'] == pytest.approx(0.02)
    assert deg['positive'] == 3
    overall = s['diffs']['frame_baseline']['mAP']
    assert overall['per_seed'] == pytest.approx({0: 0.05, 1: -0.02, 2: 0.05})
    assert overall['positive'] == 2
    ratio = s['fps_ratio']['frame_baseline']
    assert ratio['per_seed'] == pytest.approx({0: 1.6, 1: 1.75, 2: 1.6})
    assert ratio['mean'] == pytest.approx(4.95 / 3)
    assert 'psla_c' not in s['diffs']


def test_summary_refuses_seeds_with_other_methods():
    rows = dict(ROWS)
    rows[3] = ROWS[0][:1]
    with pytest.raises(ValueError, match='seed 3 has methods'):
        summarize_seeds(rows)
    with pytest.raises(ValueError, match='no seeds'):
        summarize_seeds({})


def test_summary_without_the_reference_has_no_diffs():
    only_base = {s: r[:1] for s, r in ROWS.items()}
    s = summarize_seeds(only_base)
    assert 'diffs' not in s and list(s['methods']) == ['frame_baseline']


def test_markdown_table_lists_seeds_means_and_counts():
    text = format_seed_study(summarize_seeds(ROWS))
    lines = text.splitlines()
    assert lines[0] == (
        '| seed | Frame baseline mAP@50 | Frame baseline degraded | PSLA (c) mAP@50 | '
        'PSLA (c) degraded | mAP@50: PSLA (c) − Frame baseline | '
        'degraded: PSLA (c) − Frame baseline | fps PSLA (c) / Frame baseline |'
    )
    assert lines[2] == '| 0 | 40.0 | 20.0 | 45.0 | 26.0 | +5.0 | +6.0 | 1.60x |'
    assert lines[3] == '| 1 | 50.0 | 25.0 | 48.0 | 27.0 | -2.0 | +2.0 | 1.75x |'
    mean = lines[5]
    assert mean.startswith('| mean ± sd | 44.0 ± 5.3 | 21.0 ± 3.6 |')
    assert '**+4.0 ± 2.0**' in mean and '1.65 ± 0.09x' in mean
    assert lines[-1] == (
        'Seeds where PSLA (c) is ahead: mAP@50 vs Frame baseline: 2/3; '
        'degraded vs Frame baseline: 3/3.'
    )


def test_rows_from_json_round_trip_and_bad_input():
    data = {'seeds': {str(k): v for k, v in ROWS.items()}}
    assert rows_by_seed_from_json(data) == ROWS
    with pytest.raises(ValueError, match="'seeds' object"):
        rows_by_seed_from_json({'rows': []})

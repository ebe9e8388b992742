"""benchmarks/bench_e2e.py on three small frames: it runs the real configs through
``inference_vid`` and classifies key / non-key steps by whether N_f ran."""

import math

import pytest


@pytest.mark.slow
def test_bench_e2e_classifies_key_and_non_key_steps(tool, capsys):
    stats = tool('bench_e2e', folder='benchmarks').main(
        ['--frames', '3', '--warmup', '0', '--size', '64', '96', '--threads', '1']
        + ['--methods', 'PSLA (c)', 'frame baseline']
    )
    psla, base = stats['PSLA (c)'], stats['frame baseline']
    # PSLA (l = 10): frame 0 is its key frame, 1 and 2 reuse it; the baseline runs N_f always
    assert psla['key_share'] == pytest.approx(1 / 3) and base['key_share'] == 1.0
    assert math.isnan(base['nonkey']) and psla['nonkey'] > 0
    assert psla['key'] > psla['nonkey']  # the key step runs R101; the others do not
    for s in (psla, base):
        assert s['fps'] > 0
    out = capsys.readouterr().out
    assert '| PSLA (c) |' in out and 'PSLA (c) / frame baseline: ' in out

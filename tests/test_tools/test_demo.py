"""tools/demo.py (`make demo`) in its --quick form: train, test, time, table, GIF."""

import json
import re

import pytest


@pytest.mark.slow
def test_quick_demo(tool, tiny_toy_root, tmp_path, capsys):
    rows = tool('demo').main(
        ['--quick', '--data-root', str(tiny_toy_root), '--work-dir', str(tmp_path)]
        + ['--log-interval', '2']
    )
    out = capsys.readouterr().out
    # progress: every stage prints iteration, loss and time left; the test stage its frames
    for stage in ('pretrain N_f', 'PSLA (c)', 'Frame baseline'):
        for it in (2, 4):
            assert re.search(
                rf'\[{re.escape(stage)}\] train {it}/4  loss \d+\.\d{{3}}  \d+\.\d\d s/it  '
                r'\d+s done, ~\d+s left',
                out,
            ), (stage, it, out)
    assert '[PSLA (c)] test ' in out and '[Frame baseline] test ' in out
    # both methods start from the one pretrained N_f; the table ends with the stage times
    saved = json.loads((tmp_path / 'results.json').read_text())
    assert saved['pretrained'].startswith(str(tmp_path / 'pretrained_nf' / 'nf_'))
    assert 'heads too' in out  # the default recipe: the whole frame model, heads included
    assert set(saved['stage_s']) == {
        'toy data',
        'pretrain N_f (stand-in for ImageNet weights; cached)',
        'train PSLA (c) (up to 4 iterations)',
        'test PSLA (c)',
        'train Frame baseline (up to 4 iterations)',
        'test Frame baseline',
        'time both models side by side',
        'annotated GIF',
    }
    assert '| test Frame baseline |' in (tmp_path / 'results.md').read_text()
    assert [r['method'] for r in rows] == ['PSLA (c)', 'Frame baseline']
    for row in rows:
        assert row['iters'] == 4 and row['fps'] > 0 and row['params'] > 0
        for key in ('mAP', 'mAP_degraded', 'mAP_key_frames', 'mAP_non_key_frames'):
            assert 0.0 <= row[key] <= 1.0 or row[key] != row[key]  # a number or NaN
    assert rows[0]['params'] > rows[1]['params']  # PSLA adds RFU and DenseFT
    table = (tmp_path / 'results.md').read_text()
    assert '| PSLA (c) |' in table and '| Frame baseline |' in table
    assert saved['speed_ratio'] == pytest.approx(rows[0]['fps'] / rows[1]['fps'])
    from PIL import Image

    with Image.open(tmp_path / 'psla_c_demo.gif') as gif:
        assert gif.n_frames == 12  # the first validation video, every frame


def test_time_budget_shortens_the_schedule(monkeypatch):
    from collections import Counter
    from types import SimpleNamespace

    from mmpsla.apis import experiment

    clock = {'t': 100.0}
    monkeypatch.setattr(experiment.time, 'perf_counter', lambda: clock['t'])

    class Loop:
        def __init__(self):
            self._max_iters = 600

        @property
        def max_iters(self):
            return self._max_iters

    scheduler = SimpleNamespace(milestones=Counter({450: 1}))
    runner = SimpleNamespace(iter=0, train_loop=Loop(), param_schedulers=[scheduler])
    hook = experiment.TimeBudget(budget_s=60.0, skip=3, calib=12)
    hook.before_train(runner)
    for i in range(15):  # 0.5 s per iteration, measured over iterations 3..15
        clock['t'] += 0.5
        runner.iter = i
        hook.after_train_iter(runner, i)
    # 7.5 s spent, 52.5 s left at 0.5 s/iter -> 105 more iterations
    assert runner.train_loop.max_iters == 15 + 105
    assert scheduler.milestones == Counter({90: 1})
    # a generous budget never lengthens the schedule
    runner2 = SimpleNamespace(iter=0, train_loop=Loop(), param_schedulers=[scheduler])
    hook2 = experiment.TimeBudget(budget_s=1e6, skip=3, calib=12)
    hook2.before_train(runner2)
    for i in range(15):
        clock['t'] += 0.5
        runner2.iter = i
        hook2.after_train_iter(runner2, i)
    assert runner2.train_loop.max_iters == 600

"""tools/demo.py (`make demo`) in its --quick form: train, test, time, table, GIF."""

import json

import pytest


@pytest.mark.slow
def test_quick_demo(tool, tiny_toy_root, tmp_path):
    rows = tool('demo').main(
        ['--quick', '--data-root', str(tiny_toy_root), '--work-dir', str(tmp_path)]
    )
    assert [r['method'] for r in rows] == ['PSLA (c)', 'Frame baseline']
    for row in rows:
        assert row['iters'] == 4 and row['fps'] > 0 and row['params'] > 0
        assert 0.0 <= row['mAP'] <= 1.0 or row['mAP'] != row['mAP']  # a number or NaN
    assert rows[0]['params'] > rows[1]['params']  # PSLA adds RFU and DenseFT
    table = (tmp_path / 'results.md').read_text()
    assert '| PSLA (c) |' in table and '| Frame baseline |' in table
    saved = json.loads((tmp_path / 'results.json').read_text())
    assert saved['speed_ratio'] == pytest.approx(rows[0]['fps'] / rows[1]['fps'])
    from PIL import Image

    with Image.open(tmp_path / 'psla_c_demo.gif') as gif:
        assert gif.n_frames == 12  # the first validation video, every frame

"""The README's custom-dataset worked example, end to end on a tiny toy set (slow)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def _run(*args):
    env = dict(os.environ, OMP_NUM_THREADS='1')
    result = subprocess.run([sys.executable, *map(str, args)], cwd=REPO, env=env,
                            capture_output=True, text=True, timeout=900)  # fmt: skip
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result


@pytest.mark.slow
def test_finetune_a_toy_model_on_a_two_class_custom_slice(tmp_path, tiny_toy_root,
                                                         write_toy_config):  # fmt: skip
    # a trained 4-class toy model (the README uses `make demo`'s checkpoint)
    base = write_toy_config(tmp_path, 'toy/psla_c_toy.py', tiny_toy_root, max_iters=2)
    _run('tools/train.py', base, '--work-dir', tmp_path / 'base')
    checkpoint = tmp_path / 'base' / 'iter_2.pth'
    # the README's commands: export a 2-class slice to the simple layout, convert it back
    custom = tmp_path / 'custom_demo'
    sys.path.insert(0, str(REPO / 'tools' / 'dataset_converters'))
    import cocovid2custom
    import custom2coco_vid

    for split in ('train', 'val'):
        export = [tiny_toy_root / 'annotations' / f'{split}.json', '--out', custom / f'{split}.csv',
                  '--classes', 'disc', 'square',
                  '--copy-frames', tiny_toy_root / 'Data', custom / 'frames']  # fmt: skip
        assert cocovid2custom.main([str(a) for a in export]) == 0
        convert = ['--frames', custom / 'frames', '--ann', custom / f'{split}.csv',
                   '--out', custom / 'annotations' / f'{split}.json',
                   '--classes', 'disc', 'square', '--no-progress']  # fmt: skip
        assert custom2coco_vid.main([str(a) for a in convert]) == 0
    coco = json.loads((custom / 'annotations' / 'val.json').read_text())
    assert [c['name'] for c in coco['categories']] == ['disc', 'square']
    # fine-tune with configs/vid/custom/psla_c_toy_custom.py from the 4-class checkpoint
    config = write_toy_config(tmp_path, 'vid/custom/psla_c_toy_custom.py', custom, max_iters=2,
                              extra=f"load_from = '{checkpoint}'\n")  # fmt: skip
    _run('tools/train.py', config, '--work-dir', tmp_path / 'ft')
    log = next((tmp_path / 'ft').glob('*/*.log')).read_text()
    assert (
        "checkpoint classes ['disc', 'square', 'triangle', 'cross'] -> model classes "
        "['disc', 'square']" in log
    )
    assert (
        'roi_head.bbox_head.fc_cls.weight: resized (5, 128) -> (3, 128): 2 shared class(es)'
        ' copied by name, 0 new class(es) re-initialised' in log
    )
    assert 'size mismatch' not in log
    _run('tools/test.py', config, tmp_path / 'ft' / 'iter_2.pth', '--work-dir', tmp_path / 'test')
    logs = sorted((tmp_path / 'test').glob('*/*.json'))
    metrics = json.loads(logs[-1].read_text().splitlines()[-1])
    assert 0.0 <= metrics['vid/mAP'] <= 1.0
    assert {k for k in metrics if k.startswith('vid/AP_')} == {'vid/AP_disc', 'vid/AP_square'}

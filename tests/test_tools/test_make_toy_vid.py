"""tools/make_toy_vid.py: the command line of the toy generator."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def test_cli_writes_dataset_and_prints_statistics(tmp_path):
    out = tmp_path / 'toy'
    cmd = [sys.executable, str(REPO / 'tools' / 'make_toy_vid.py'), '--out', str(out),
           '--seed', '5', '--train-videos', '2', '--val-videos', '1', '--frames', '10',
           '--no-progress']  # fmt: skip
    result = subprocess.run(cmd, capture_output=True, text=True, check=True)
    train = json.loads((out / 'annotations' / 'train.json').read_text())
    val = json.loads((out / 'annotations' / 'val.json').read_text())
    assert len(train['videos']) == 2 and len(train['images']) == 20
    assert len(val['videos']) == 1 and len(val['images']) == 10
    assert all((out / 'Data' / img['file_name']).is_file() for img in train['images'])
    lines = {line.split()[0]: line.split()[1:] for line in result.stdout.splitlines() if line}
    assert lines['videos'] == ['2', '1'] and lines['frames'] == ['20', '10']
    assert lines['boxes'] == [str(len(train['annotations'])), str(len(val['annotations']))]
    # in-process from here on (one interpreter start is enough)
    sys.path.insert(0, str(REPO / 'tools'))
    import make_toy_vid

    args = cmd[2:-1]  # without the script and --no-progress
    with pytest.raises(FileExistsError, match='overwrite'):
        make_toy_vid.main(args + ['--frames', '8', '--no-progress'])
    assert make_toy_vid.main(args + ['--frames', '8', '--overwrite', '--no-progress']) == 0
    assert len(json.loads((out / 'annotations' / 'train.json').read_text())['images']) == 16


def test_two_generators_started_at_once_make_one_valid_set(tmp_path):
    """Two processes on one folder: one generates, the other waits and reuses the set."""
    out, reference = tmp_path / 'shared', tmp_path / 'reference'
    # with progress output: the process that reuses the set says so on stdout
    args = ['--seed', '2', '--train-videos', '4', '--val-videos', '2', '--frames', '25']
    script = str(REPO / 'tools' / 'make_toy_vid.py')
    procs = [
        subprocess.Popen(
            [sys.executable, script, '--out', str(out), *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outputs
    reused = [o for o, _ in outputs if 'already holds this toy dataset' in o]
    assert len(reused) == 1, outputs  # exactly one of them generated
    subprocess.run([sys.executable, script, '--out', str(reference), *args], check=True,
                   capture_output=True)  # fmt: skip
    for split in ('train', 'val'):
        shared = (out / 'annotations' / f'{split}.json').read_bytes()
        assert shared == (reference / 'annotations' / f'{split}.json').read_bytes()
        for img in json.loads(shared)['images']:
            frame = (out / 'Data' / img['file_name']).read_bytes()
            assert frame == (reference / 'Data' / img['file_name']).read_bytes()
    assert not list(out.glob('annotations/.*.tmp-*'))  # no temporary file left behind

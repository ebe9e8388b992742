"""Bad input to the tools: each error names the argument (or file) and says the fix.

One table per tool; each row is (arguments, expected error, text the message must hold).
``SystemExit`` rows are argparse errors: the message is read from stderr.
"""

from pathlib import Path

import pytest
import torch

REPO = Path(__file__).resolve().parents[2]
CONFIG = str(REPO / 'configs' / 'toy' / 'psla_c_toy.py')


@pytest.fixture
def files(tmp_path):
    """Named bad and good inputs, created on demand in ``tmp_path``."""
    (tmp_path / 'notes.txt').write_text('not a config')
    (tmp_path / 'a_file').write_text('x')
    (tmp_path / 'folder.pth').mkdir()
    (tmp_path / 'dir.pkl').mkdir()
    (tmp_path / 'empty.pth').write_bytes(b'')
    valid = tmp_path / 'valid.pth'
    torch.save({'state_dict': {'w': torch.zeros(1000)}}, valid)
    (tmp_path / 'truncated.pth').write_bytes(valid.read_bytes()[: valid.stat().st_size // 2])
    (tmp_path / 'text.pth').write_text('<html>404 Not Found</html>')
    return tmp_path


def _check(call, argv, error, match, capsys):
    if error is SystemExit:
        with pytest.raises(SystemExit) as info:
            call(argv)
        assert info.value.code == 2
        message = capsys.readouterr().err
    else:
        with pytest.raises(error) as info:
            call(argv)
        message = str(info.value)
    for text in match:
        assert text in message, message


def _fill(argv, files):
    return [a.format(tmp=files, config=CONFIG) for a in argv]


TRAIN = [
    (['{tmp}/missing.py'], FileNotFoundError, ['config file not found', 'configs/toy/']),
    (['{tmp}/notes.txt'], ValueError, ['notes.txt is not a config file', '.py']),
    (['{config}', '--work-dir', '{tmp}/a_file'], NotADirectoryError, ['--work-dir', 'a folder']),
    (['{config}', '--resume', '{tmp}/missing.pth'], FileNotFoundError, ['--resume', '.pth']),
    (['{config}', '--auto-scale-lr'], ValueError, ['auto_scale_lr.base_batch_size=8']),
    (['{config}', '--cfg-options', 'train_cfg.max_iters=0'], ValueError,
     ['train_cfg.max_iters must be a positive int', '--cfg-options train_cfg.max_iters=']),
    (['{config}', '--cfg-options', 'train_cfg.max_iters=ten'], ValueError, ["got 'ten'"]),
    (['{config}', '--launcher', 'ssh'], SystemExit, ['--launcher', 'invalid choice']),
    (['{config}', '--local-rank', 'x'], SystemExit, ['--local_rank', 'invalid int']),
    ([], SystemExit, ['config']),
]  # fmt: skip

TEST = [
    (['{config}', '{tmp}/missing.pth'], FileNotFoundError, ['checkpoint file not found']),
    (['{config}', '{tmp}/folder.pth'], FileNotFoundError, ['is a folder', 'last_checkpoint']),
    (['{config}', '{tmp}/a_file', '--out', 'res.json'], ValueError, ['--out', 'results.pkl']),
    (['{config}', '{tmp}/a_file', '--out', '{tmp}/dir.pkl'], IsADirectoryError, ['a folder']),
    (['{tmp}/missing.py', '{tmp}/a_file'], FileNotFoundError, ['config file not found']),
    (['{config}'], SystemExit, ['checkpoint']),
]  # fmt: skip

BENCHMARK = [
    (['{tmp}/missing.py'], SystemExit, ['config file not found']),
    (['{config}', '--checkpoint', '{tmp}/missing.pth'], SystemExit, ['--checkpoint', '.pth']),
    (['{config}', '--warmup', '-1'], SystemExit, ['--warmup must be >= 0']),
    (['{config}', '--max-frames', '0'], SystemExit, ['--max-frames must be >= 1']),
    (['{config}', '--warmup', 'ten'], SystemExit, ['--warmup', 'invalid int']),
]  # fmt: skip

MAKE_TOY_VID = [
    (['--out', '{tmp}/a_file'], SystemExit, ['--out', 'is a file', 'folder']),
    (['--out', '{tmp}/t', '--frames', '2'], SystemExit, ['--frames must be >= 4']),
    (['--out', '{tmp}/t', '--train-videos', '0'], SystemExit, ['--train-videos and --val-videos']),
    (['--out', '{tmp}/t', '--degraded-fraction', '0.9'], SystemExit, ['--degraded-fraction']),
    (['--out', '{tmp}/t', '--width', '40'], SystemExit, ['(--width, --height)']),
    (['--out', '{tmp}/t', '--seed', 'x'], SystemExit, ['--seed', 'invalid int']),
]  # fmt: skip


def _ids(table):
    return [' '.join(row[0]).replace('{config}', 'CFG').replace('{tmp}/', '') for row in table]


@pytest.mark.parametrize('argv,error,match', TRAIN, ids=_ids(TRAIN))
def test_train(tool, files, capsys, argv, error, match):
    _check(tool('train').main, _fill(argv, files), error, match, capsys)


@pytest.mark.parametrize('argv,error,match', TEST, ids=_ids(TEST))
def test_test(tool, files, capsys, argv, error, match):
    _check(tool('test').main, _fill(argv, files), error, match, capsys)


@pytest.mark.parametrize('argv,error,match', BENCHMARK, ids=_ids(BENCHMARK))
def test_benchmark(tool, files, capsys, argv, error, match):
    _check(tool('benchmark').main, _fill(argv, files), error, match, capsys)


@pytest.mark.parametrize('argv,error,match', MAKE_TOY_VID, ids=_ids(MAKE_TOY_VID))
def test_make_toy_vid(tool, files, capsys, argv, error, match):
    _check(tool('make_toy_vid').main, _fill(argv + ['--no-progress'], files), error, match, capsys)


@pytest.mark.parametrize('damaged', ['truncated.pth', 'empty.pth', 'text.pth'])
def test_damaged_checkpoint_is_named_by_test_tool_and_init_model(
    tool, files, tiny_toy_root, write_toy_config, damaged
):
    from mmpsla.apis import init_model
    from mmpsla.utils import CheckpointLoadError

    config = write_toy_config(files, 'toy/psla_c_toy.py', tiny_toy_root)
    path = str(files / damaged)
    expected = f'checkpoint {path} '
    with pytest.raises(CheckpointLoadError, match='truncated, corrupt') as info:
        tool('test').main([str(config), path, '--work-dir', str(files / 'work')])
    assert expected in str(info.value) and 'last_checkpoint' in str(info.value)
    with pytest.raises(CheckpointLoadError) as info:
        init_model(str(config), path, device='cpu')
    assert expected in str(info.value)

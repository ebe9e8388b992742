"""Shared fixtures: a tiny toy VID dataset on disk and configs pointed at it."""

import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope='session')
def tiny_toy_root(tmp_path_factory) -> Path:
    """A tiny toy VID set (real JPEGs + CocoVID JSON), generated once per session."""
    from fixtures.toy_data import make_small_toy_vid

    return make_small_toy_vid(tmp_path_factory.mktemp('tiny_toy_vid'))


def _write_toy_config(
    tmp_path: Path, base: str, data_root: Path, max_iters: int = 2, extra: str = ''
) -> Path:
    """Write a config inheriting ``configs/<base>`` that trains briefly on ``data_root``.

    Args:
        tmp_path: Where the config file is written.
        base: The config to inherit, relative to ``configs/`` (e.g. ``toy/psla_c_toy.py``).
        data_root: Root of a toy VID set (``annotations/{train,val}.json``, ``Data/``).
        max_iters: Training iterations; a checkpoint is saved at the end.
        extra: More config lines appended verbatim.
    """
    root = f'{data_root}/'
    text = textwrap.dedent(
        f"""
        _base_ = ['{REPO / 'configs' / base}']
        data_root = '{root}'
        train_dataloader = dict(batch_size=1, dataset=dict(data_root=data_root))
        val_dataloader = dict(dataset=dict(data_root=data_root))
        test_dataloader = dict(dataset=dict(data_root=data_root))
        val_evaluator = dict(ann_file=data_root + 'annotations/val.json')
        test_evaluator = dict(ann_file=data_root + 'annotations/val.json')
        train_cfg = dict(max_iters={max_iters}, val_interval=10**9)
        default_hooks = dict(
            checkpoint=dict(interval={max_iters}, max_keep_ckpts=2),
            logger=dict(interval=1),
        )
        """
    )
    path = tmp_path / f'{Path(base).stem}_tiny.py'
    path.write_text(text + extra)
    return path


@pytest.fixture
def write_toy_config():
    """The function :func:`_write_toy_config`, for tests that train on a tiny toy set."""
    return _write_toy_config


def load_tool(name: str, folder: str = 'tools'):
    """Import ``<folder>/<name>.py`` (``tools`` or ``benchmarks``) as a module
    (``tools/test.py`` would shadow stdlib ``test``)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        f'mmpsla_{folder}_{name}', REPO / folder / f'{name}.py'
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def tool():
    """The function :func:`load_tool`."""
    return load_tool

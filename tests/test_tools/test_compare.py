"""tools/compare.py: argument checks, the table, and a quick end-to-end comparison."""

import json
import os.path as osp
import sys

import pytest

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, osp.join(ROOT, 'tools'))

import compare  # noqa: E402


def test_six_methods_and_no_demo_import():
    assert list(compare.METHODS) == [
        'frame_baseline', 'dff', 'fgfa', 'selsa', 'troialign', 'psla_c'
    ]  # fmt: skip
    for _, cfg in compare.METHODS.values():
        assert osp.isfile(osp.join(ROOT, cfg))
    with open(compare.__file__) as f:
        source = f.read()
    assert 'import demo' not in source and 'from demo' not in source


def test_parse_args_checks_method_pairs(tmp_path):
    ckpt = tmp_path / 'dff.pth'
    ckpt.write_bytes(b'')
    args = compare.parse_args(['--methods', 'dff', 'fgfa', '--checkpoints', f'dff={ckpt}'])
    assert args.methods == ['dff', 'fgfa'] and args.checkpoints == {'dff': str(ckpt)}
    with pytest.raises(SystemExit, match='METHOD=VALUE'):
        compare.parse_args(['--checkpoints', 'rfcn=x.pth'])
    with pytest.raises(SystemExit, match='no such file'):
        compare.parse_args(['--checkpoints', f'dff={tmp_path / "missing.pth"}'])


def test_format_table_marks_missing_subsets():
    row = dict(
        method='DFF',
        key='dff',
        mAP=0.5,
        mAP_slow=0.61,
        mAP_medium=float('nan'),
        mAP_fast=0.25,
        mAP_degraded=0.125,
        fps=12.34,
        params=5_450_000,
        train_iters=300,
        train_s=61.2,
        checkpoint=None,
    )
    table = compare.format_table([row, dict(row, method='FGFA', checkpoint='x.pth')])
    lines = table.splitlines()
    assert lines[2] == '| DFF | 50.0 | 61.0 | n/a | 25.0 | 12.5 | 12.3 | 5.45M | 300 it, 61 s |'
    assert lines[3].endswith('| 300 it, checkpoint |')


@pytest.mark.slow
def test_quick_comparison_end_to_end(tmp_path):
    from mmpsla.models.aggregators import EmbedAggregator
    from mmpsla.models.motion import FlowNetSimple

    work = str(tmp_path / 'cmp')
    rows = compare.main(
        [
            '--quick',
            '--methods',
            'frame_baseline',
            'dff',
            'fgfa',
            'selsa',
            'troialign',
            '--work-dir',
            work,
            '--warmup',
            '2',
        ]
    )
    names = ['Frame baseline', 'DFF', 'FGFA', 'SELSA', 'TRoI Align']
    assert [r['method'] for r in rows] == names
    by_key = {r['key']: r for r in rows}
    for r in rows:
        assert r['fps'] > 0 and r['frames_timed'] == 2 * 12 - 2  # 2 videos x 12, warm-up
        assert 0.0 <= r['mAP'] <= 1.0 and r['train_iters'] == 4
    # same detector for all: DFF adds FlowNet, FGFA FlowNet and the embedding network
    flownet = sum(p.numel() for p in FlowNetSimple(width_mult=0.125).parameters())
    embed = sum(p.numel() for p in EmbedAggregator(channels=128).parameters())
    assert by_key['dff']['params'] - by_key['frame_baseline']['params'] == flownet
    assert by_key['fgfa']['params'] - by_key['frame_baseline']['params'] == flownet + embed
    # SELSA: one aggregator per shared FC; TRoI Align: a third FC + aggregator, the embed conv
    from mmpsla.models.aggregators import SelsaAggregator

    agg = sum(p.numel() for p in SelsaAggregator(128, 16).parameters())
    assert by_key['selsa']['params'] - by_key['frame_baseline']['params'] == 2 * agg
    fc, conv = 128 * 128 + 128, 128 * 128 * 9 + 128
    assert by_key['troialign']['params'] - by_key['selsa']['params'] == agg + fc + conv
    for name in ('compare.md', 'compare.json', 'map_vs_fps.png'):
        assert osp.getsize(osp.join(work, name)) > 0
    with open(osp.join(work, 'compare.json')) as f:
        saved = json.load(f)
    assert [r['method'] for r in saved['rows']] == names
    with open(osp.join(work, 'compare.md')) as f:
        text = f.read()
    assert '| DFF |' in text and 'Command: python tools/compare.py --quick' in text

    # a trained checkpoint is tested without training and gives the same mAP
    ckpt = osp.join(work, 'dff', 'iter_4.pth')
    again = compare.main(
        [
            '--quick',
            '--methods',
            'dff',
            '--checkpoints',
            f'dff={ckpt}',
            '--work-dir',
            str(tmp_path / 'again'),
            '--data-root',
            osp.join(work, 'toy_vid_quick'),
            '--warmup',
            '2',
        ]
    )
    assert again[0]['checkpoint'] == ckpt and again[0]['train_iters'] == 4
    assert again[0]['mAP'] == pytest.approx(by_key['dff']['mAP'])

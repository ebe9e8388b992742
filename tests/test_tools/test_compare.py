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


def test_parse_args_checks_seed_study_options(tmp_path):
    args = compare.parse_args(['--seeds', '3', '--first-seed', '2', '--pretrained', 'none'])
    assert args.seeds == 3 and args.first_seed == 2 and args.pretrained == 'none'
    with pytest.raises(SystemExit, match='--seeds: expected a number of seeds >= 1'):
        compare.parse_args(['--seeds', '0'])
    ckpt = tmp_path / 'dff.pth'
    ckpt.write_bytes(b'')
    with pytest.raises(SystemExit, match='drop --checkpoints'):
        compare.parse_args(['--seeds', '2', '--checkpoints', f'dff={ckpt}'])
    with pytest.raises(SystemExit, match="--pretrained: no such file .*'auto', 'none'"):
        compare.parse_args(['--pretrained', str(tmp_path / 'nf.pth')])
    with pytest.raises(SystemExit, match='--log-interval'):
        compare.parse_args(['--log-interval', '0'])


def test_pretrained_heads_default_follows_the_pretrained_option(tmp_path):
    """Detection tools start the heads from the frame model with --pretrained auto (the
    measured toy recipe); never with 'none' or a user's N_f file unless asked."""
    assert compare.parse_args([]).pretrained_heads is True
    assert compare.parse_args(['--no-pretrained-heads']).pretrained_heads is False
    assert compare.parse_args(['--pretrained', 'none']).pretrained_heads is False
    nf = tmp_path / 'nf.pth'
    nf.write_bytes(b'')
    assert compare.parse_args(['--pretrained', str(nf)]).pretrained_heads is False
    assert compare.parse_args(['--pretrained', str(nf), '--pretrained-heads']).pretrained_heads
    with pytest.raises(SystemExit, match="--pretrained-heads .* not 'none'"):
        compare.parse_args(['--pretrained', 'none', '--pretrained-heads'])


def _rows(seed, base_deg, psla_deg):
    common = dict(mAP=0.4, mAP_slow=0.4, mAP_medium=0.4, mAP_fast=0.4, seed=seed)
    return [
        dict(
            common, key='frame_baseline', method='Frame baseline', mAP_degraded=base_deg, fps=50.0
        ),
        dict(common, key='psla_c', method='PSLA (c)', mAP_degraded=psla_deg, fps=80.0),
    ]


def test_from_json_merges_runs_without_training(tmp_path, capsys):
    one = tmp_path / 'compare.json'  # a single-seed run (seed 0)
    one.write_text(json.dumps({'rows': _rows(0, 0.20, 0.25)}))
    many = tmp_path / 'seeds.json'  # a seed study over seeds 1 and 2
    many.write_text(json.dumps({'seeds': {'1': _rows(1, 0.30, 0.31), '2': _rows(2, 0.2, 0.18)}}))
    out = tmp_path / 'merged'
    rows = compare.main(['--from-json', str(one), str(many), '--work-dir', str(out)])
    assert sorted(rows) == [0, 1, 2]
    saved = json.loads((out / 'seeds.json').read_text())
    diff = saved['summary']['diffs']['frame_baseline']['mAP_degraded']
    assert diff['per_seed'] == pytest.approx({'0': 0.05, '1': 0.01, '2': -0.02})
    assert diff['positive'] == 2
    text = (out / 'seeds.md').read_text()
    assert '| 2 | 40.0 | 20.0 | 40.0 | 18.0 | +0.0 | -2.0 | 1.60x |' in text
    with pytest.raises(SystemExit, match='seed 0 appears twice'):
        compare.main(['--from-json', str(one), str(one), '--work-dir', str(out)])
    with pytest.raises(SystemExit, match='no such file'):
        compare.main(['--from-json', str(tmp_path / 'none.json'), '--work-dir', str(out)])


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


@pytest.mark.slow
def test_quick_seed_study_prints_progress_and_stage_times(tmp_path, capsys):
    work = tmp_path / 'seeds'
    result = compare.main(
        ['--quick', '--methods', 'frame_baseline', 'psla_c', '--seeds', '2', '--first-seed', '3']
        + ['--work-dir', str(work), '--warmup', '2', '--log-interval', '2']
    )
    assert sorted(result) == [3, 4]
    for seed, rows in result.items():
        assert [r['key'] for r in rows] == ['frame_baseline', 'psla_c']
        for r in rows:
            assert r['seed'] == seed and r['fps'] > 0 and r['train_iters'] == 4
            assert r['pretrained'] and osp.isfile(r['pretrained'])
            assert osp.isfile(work / f'seed{seed}' / r['key'] / 'iter_4.pth')
    # one N_f for every method and seed
    assert len({r['pretrained'] for rows in result.values() for r in rows}) == 1
    out = capsys.readouterr().out
    for label in ('Frame baseline seed 3', 'PSLA (c) seed 4', 'pretrain N_f'):
        assert f'[{label}] train 2/4  loss ' in out and f'[{label}] train 4/4  loss ' in out
    assert '[PSLA (c) seed 3] test 24/24 frames' in out
    saved = json.loads((work / 'seeds.json').read_text())
    assert sorted(saved['seeds']) == ['3', '4'] and saved['summary']['seeds'] == [3, 4]
    assert set(saved['stage_s']) >= {'test PSLA (c) seed 4', 'time 2 model(s) side by side, seed 3'}
    text = (work / 'seeds.md').read_text()
    assert 'Over seeds [3, 4] (mean ± sd):' in text and '| stage | wall time |' in text
    # every seed was also written when it finished, in the single-seed layout, and merges back
    per_seed = [str(work / f'seed{s}' / 'seed_result.json') for s in (3, 4)]
    for seed, path in zip((3, 4), per_seed):
        assert json.loads(open(path).read())['rows'] == saved['seeds'][str(seed)]
    assert compare.main(['--from-json', *per_seed, '--work-dir', str(tmp_path / 'merged')]) == {
        int(k): v for k, v in saved['seeds'].items()
    }
    # a second run reuses the cached N_f
    again = compare.main(
        ['--quick', '--methods', 'frame_baseline', '--work-dir', str(work), '--warmup', '2']
        + ['--log-interval', '2', '--data-root', str(work / 'toy_vid_quick')]
    )
    assert again[0]['pretrained'] == result[3][0]['pretrained']
    assert 'pretrained N_f: reusing' in capsys.readouterr().out

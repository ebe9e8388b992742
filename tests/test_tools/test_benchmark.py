"""tools/benchmark.py: parameter report and fps over whole videos."""

import re
from pathlib import Path

import pytest

from mmpsla.apis import count_parameters, init_model

REPO = Path(__file__).resolve().parents[2]


def test_params_only_matches_the_model(tool, capsys):
    cfg = str(REPO / 'configs' / 'toy' / 'psla_c_toy.py')
    assert tool('benchmark').main([cfg, '--params-only']) is None
    out = capsys.readouterr().out
    printed = float(re.search(r'parameters: ([\d.]+)M', out).group(1))
    assert abs(printed - count_parameters(init_model(cfg)) / 1e6) < 0.01
    for part in ('backbone', 'rfu', 'dense_ft', 'rpn_head', 'roi_head'):
        assert re.search(rf'^\s+{part}\s+[\d.]+M$', out, re.M)


def test_r101_report_names_the_paper_size(tool, capsys):
    tool('benchmark').main([str(REPO / 'configs' / 'vid' / 'psla_r101.py'), '--params-only'])
    out = capsys.readouterr().out
    assert 'paper (R-FCN head): 63.7M' in out and 'R-FCN head' in out


def test_fps_over_whole_videos(tool, tiny_toy_root, write_toy_config, tmp_path):
    cfg = write_toy_config(tmp_path, 'toy/psla_c_toy.py', tiny_toy_root)
    result = tool('benchmark').main([str(cfg), '--warmup', '0'])
    # 2 val videos of 12 frames, l = 10, middle mode: segments [0-9] (key 5) and [10, 11]
    # (key 11); N_f runs at frames 0 and 10 of each video (the key frame is attached there)
    assert result['frames'] == 24
    assert result['key_frames'] == 4 and result['nonkey_frames'] == 20
    assert result['fps'] > 0 and result['key_fps'] > 0 and result['nonkey_fps'] > 0
    expected_fps = result['frames'] / result['seconds']
    assert abs(result['fps'] - expected_fps) < 1e-6 * expected_fps


def test_side_by_side_timing(tiny_toy_root, write_toy_config, tmp_path):
    from mmengine.runner import Runner

    from mmpsla.apis import measure_fps

    psla_cfg = write_toy_config(tmp_path, 'toy/psla_c_toy.py', tiny_toy_root)
    base_cfg = write_toy_config(tmp_path, 'toy/frame_baseline_toy.py', tiny_toy_root)
    models = {'psla': init_model(str(psla_cfg)), 'base': init_model(str(base_cfg))}
    loader = Runner.build_dataloader(models['psla'].cfg.test_dataloader)
    result = measure_fps(models, loader, warmup=2, max_frames=20)
    assert result['psla']['frames'] == result['base']['frames'] == 20
    # frames 2..21 of the first video pair: N_f runs for PSLA at frames 10 and 12 (video 2's
    # frame 0) only, for the baseline at every frame
    assert result['psla']['key_frames'] == 2 and result['base']['key_frames'] == 20


def test_video_segmentation_configs_are_timed_over_whole_snippets(tool, tmp_path, capsys):
    from mmpsla.datasets.toy_seg import make_toy_seg

    root = tmp_path / 'toy_seg'
    make_toy_seg(str(root), seed=0, num_train_snippets=1, num_val_snippets=2)
    data = [f'test_dataloader.dataset.data_root={root}']
    psla = REPO / 'configs' / 'seg' / 'toy' / 'psla_c_toy_seg.py'
    base = REPO / 'configs' / 'seg' / 'toy' / 'frame_baseline_toy_seg.py'
    # 10 frames asked + 2 warm-up steps: one whole 30-frame snippet, 28 steps timed; l = 5:
    # key steps at 0, 5, ..., 25, the one at 0 in the warm-up -> 5 timed key steps
    result = tool('benchmark').main(
        [str(psla), '--max-frames', '10', '--warmup', '2', '--cfg-options', *data]
    )
    assert result['frames'] == 28
    assert result['key_frames'] == 5 and result['nonkey_frames'] == 23
    assert result['key_fps'] > 0 and result['nonkey_fps'] > 0
    assert 'dense_ft' in capsys.readouterr().out  # the parameter report comes first
    result = tool('benchmark').main([str(base), '--max-frames', '31', '--warmup', '0',
                                     '--cfg-options', *data])  # fmt: skip
    # 31 frames: both snippets; the frame baseline has no non-key steps
    assert result['frames'] == 60 and result['key_frames'] == 60
    assert result['nonkey_frames'] == 0 and result['nonkey_fps'] == 0

    class NoSchedule:  # a test pipeline without SegKeyFrameSchedule
        pipeline = type('Compose', (), {'transforms': [object()]})()

    with pytest.raises(ValueError, match='key-frame schedule'):
        tool('benchmark').key_frame_interval_of(NoSchedule())

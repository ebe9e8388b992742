"""tools/demo_vid.py and demo/demo_vid.py: a frame folder or a video in, an annotated video
out, streamed (memory flat in the video's length)."""

from pathlib import Path

import cv2
import numpy as np
import pytest
from fixtures.memory import peak_traced_bytes

REPO = Path(__file__).resolve().parents[2]
CFG = str(REPO / 'configs' / 'toy' / 'psla_c_toy.py')


def _frames(folder: Path, n: int = 6):
    folder.mkdir()
    rng = np.random.default_rng(0)
    for i in range(n):
        img = rng.integers(0, 255, (64, 96, 3), dtype=np.uint8)
        cv2.imwrite(str(folder / f'{i:05d}.png'), img)
    return folder


def _fps(path: str) -> float:
    cap = cv2.VideoCapture(path)
    fps = cap.get(cv2.CAP_PROP_FPS)
    cap.release()
    return fps


def _count_frames(path: str) -> int:
    cap = cv2.VideoCapture(path)
    n = 0
    while cap.read()[0]:
        n += 1
    cap.release()
    return n


def test_folder_to_mp4_and_video_to_gif(tool, tmp_path):
    folder = _frames(tmp_path / 'frames')
    demo = tool('demo_vid')
    mp4 = str(tmp_path / 'out.mp4')
    args = [CFG, 'none', str(folder), '--out', mp4, '--score-thr', '0.0']
    with pytest.raises(ValueError, match='no frame rate'):
        demo.main(args)  # a frame folder has no frame rate: a video output needs --fps
    assert demo.main(args + ['--key-frame-interval', '4', '--fps', '7']) == mp4
    assert _count_frames(mp4) == 6
    assert _fps(mp4) == pytest.approx(7)
    again = str(tmp_path / 'again.mp4')
    demo.main([CFG, 'none', mp4, '--out', again])
    assert _fps(again) == pytest.approx(7)  # written at the input video's frame rate
    gif = str(tmp_path / 'out.gif')
    demo.main([CFG, 'none', mp4, '--out', gif, '--mode', 'first'])
    from PIL import Image

    with Image.open(gif) as im:
        assert im.n_frames == 6 and im.size == (96, 64)


def _video(path: Path, n: int, h: int = 192, w: int = 288) -> str:
    rng = np.random.default_rng(n)
    frames = (rng.integers(0, 255, (h, w, 3), dtype=np.uint8) for _ in range(n))
    from mmpsla.apis import write_video

    return write_video(frames, str(path), fps=10)


def test_annotating_streams_frames(tmp_path):
    """3x the frames, same peak memory: no annotated (or input) frame is kept beyond the
    schedule's window (the toy config's l = 10: up to 10 frames back and 5 ahead)."""
    import torch

    from mmpsla.apis import annotate_video, inference_video, init_model

    torch.manual_seed(0)
    model = init_model(str(REPO / 'configs' / 'toy' / 'frame_baseline_toy.py'), device='cpu')
    frame_bytes = 192 * 288 * 3
    short, long = _video(tmp_path / 'short.mp4', 20), _video(tmp_path / 'long.mp4', 60)
    annotate_video(model, short, str(tmp_path / 'warmup.mp4'))  # first-call allocations
    peaks = {
        n: peak_traced_bytes(lambda v=v, n=n: annotate_video(model, v, str(tmp_path / f'{n}.mp4')))
        for n, v in ((20, short), (60, long))
    }
    assert _count_frames(str(tmp_path / '60.mp4')) == 60
    # keeping the 40 extra frames would add >= 40 * frame_bytes (6.6 MB) to the peak
    assert peaks[60] - peaks[20] < 2 * frame_bytes, peaks

    def consume(video):
        for _ in inference_video(model, video):
            pass

    whole = {n: peak_traced_bytes(lambda v=v: consume(v)) for n, v in ((20, short), (60, long))}
    assert whole[60] - whole[20] < 2 * frame_bytes, whole


def test_mmtrack_demo_arguments(tmp_path):
    """demo/demo_vid.py takes mmtrack's arguments (config --input --output --checkpoint
    --device --show --score_thr --fps) and writes one annotated frame per input frame."""
    import importlib.util

    spec = importlib.util.spec_from_file_location('demo_vid', REPO / 'demo' / 'demo_vid.py')
    demo = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(demo)
    video = _video(tmp_path / 'in.mp4', 5, 64, 96)
    out = str(tmp_path / 'out.mp4')
    cfg = str(REPO / 'configs' / 'toy' / 'dff_toy.py')
    args = [cfg, '--input', video, '--output', out, '--device', 'cpu', '--score_thr', '0.0']
    assert demo.main(args) == 5
    assert _count_frames(out) == 5 and _fps(out) == pytest.approx(10)
    folder = tmp_path / 'jpgs'
    assert demo.main([cfg, '--input', video, '--output', str(folder), '--device', 'cpu']) == 5
    assert sorted(p.name for p in folder.iterdir())[:2] == ['000000.jpg', '000001.jpg']

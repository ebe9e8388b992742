"""tools/demo_vid.py: a frame folder or a video file in, an annotated MP4/GIF out."""

from pathlib import Path

import cv2
import numpy as np

REPO = Path(__file__).resolve().parents[2]
CFG = str(REPO / 'configs' / 'toy' / 'psla_c_toy.py')


def _frames(folder: Path, n: int = 6):
    folder.mkdir()
    rng = np.random.default_rng(0)
    for i in range(n):
        img = rng.integers(0, 255, (64, 96, 3), dtype=np.uint8)
        cv2.imwrite(str(folder / f'{i:05d}.png'), img)
    return folder


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
    assert demo.main(args + ['--key-frame-interval', '4']) == mp4
    assert _count_frames(mp4) == 6
    gif = str(tmp_path / 'out.gif')
    demo.main([CFG, 'none', mp4, '--out', gif, '--mode', 'first'])
    from PIL import Image

    with Image.open(gif) as im:
        assert im.n_frames == 6 and im.size == (96, 64)

"""The procedural toy VID generator: determinism, format, degradation bursts, statistics."""

import json

import cv2
import numpy as np
import pytest
from fixtures.memory import peak_traced_bytes

from mmpsla.datasets import TOY_CLASSES, make_toy_vid, vid_statistics
from mmpsla.datasets.toy_vid import degradation_schedule

SMALL = dict(num_train_videos=2, num_val_videos=1, num_frames=12, progress=False)


def _load(root, split='train'):
    return json.loads((root / 'annotations' / f'{split}.json').read_text())


def _pixels(root, coco):
    return [cv2.imread(str(root / 'Data' / img['file_name'])) for img in coco['images']]


@pytest.fixture(scope='module')
def toy_pair(tmp_path_factory):
    a = tmp_path_factory.mktemp('toy_a')
    b = tmp_path_factory.mktemp('toy_b')
    c = tmp_path_factory.mktemp('toy_c')
    stats = make_toy_vid(str(a), seed=3, **SMALL)
    make_toy_vid(str(b), seed=3, **SMALL)
    make_toy_vid(str(c), seed=4, **SMALL)
    return a, b, c, stats


def test_same_seed_identical_json_and_pixels(toy_pair):
    a, b, c, _ = toy_pair
    for split in ('train', 'val'):
        assert (a / 'annotations' / f'{split}.json').read_bytes() == (
            b / 'annotations' / f'{split}.json'
        ).read_bytes()
    for img_a, img_b in zip(_pixels(a, _load(a)), _pixels(b, _load(b))):
        np.testing.assert_array_equal(img_a, img_b)
    # another seed: other annotations and other pixels
    assert _load(a)['annotations'] != _load(c)['annotations']
    assert not np.array_equal(_pixels(a, _load(a))[0], _pixels(c, _load(c))[0])


def test_cocovid_format_and_content(toy_pair):
    a, _, _, stats = toy_pair
    coco = _load(a)
    assert [c['name'] for c in coco['categories']] == list(TOY_CLASSES)
    assert len(coco['videos']) == 2 and len(coco['images']) == 24
    for img in coco['images']:
        assert (img['width'], img['height']) == (192, 128)
        assert img['is_degraded'] == (img['degradation'] is not None)
        frame = cv2.imread(str(a / 'Data' / img['file_name']))
        assert frame.shape == (128, 192, 3)
    frame_ids = [img['frame_id'] for img in coco['images'] if img['video_id'] == 1]
    assert frame_ids == list(range(12))
    img_ids = {img['id'] for img in coco['images']}
    for ann in coco['annotations']:
        x, y, w, h = ann['bbox']
        assert ann['image_id'] in img_ids and 1 <= ann['category_id'] <= len(TOY_CLASSES)
        assert x >= 0 and y >= 0 and x + w <= 192 and y + h <= 128
        assert 17 <= w <= 52 and 17 <= h <= 52 and ann['area'] == w * h
    # an instance keeps its class over the video
    classes = {}
    for ann in coco['annotations']:
        assert classes.setdefault(ann['instance_id'], ann['category_id']) == ann['category_id']
    assert stats['train'] == vid_statistics(coco)
    assert stats['train']['videos'] == 2 and stats['train']['frames'] == 24
    assert stats['train']['boxes'] == len(coco['annotations'])


def test_objects_move_and_degraded_frames_lose_detail(tmp_path):
    make_toy_vid(str(tmp_path), seed=0, num_train_videos=4, num_val_videos=1, num_frames=30,
                 progress=False)  # fmt: skip
    coco = _load(tmp_path)
    stats = vid_statistics(coco)
    assert 0.25 <= stats['degraded_fraction'] <= 0.35
    assert stats['vid_train_frames'] == 4 * 15
    # objects move: some instance travels more than 10 px over its video
    tracks = {}
    for ann in coco['annotations']:
        tracks.setdefault(ann['instance_id'], []).append(ann['bbox'][:2])
    travel = [np.abs(np.diff(np.array(t), axis=0)).sum() for t in tracks.values()]
    assert max(travel) > 10
    # degradation wipes out fine detail: high-frequency energy inside the boxes drops
    imgs = {img['id']: img for img in coco['images']}

    def detail(kind):
        values = []
        for ann in coco['annotations']:
            img = imgs[ann['image_id']]
            if img['degradation'] != kind:
                continue
            gray = cv2.imread(str(tmp_path / 'Data' / img['file_name']), 0).astype(np.float32)
            x, y, w, h = ann['bbox']
            crop = cv2.GaussianBlur(gray, (0, 0), 1.0)[y : y + h, x : x + w]  # denoise a bit
            values.append(np.abs(cv2.Laplacian(crop, cv2.CV_32F)).mean())
        return np.mean(values)

    clean = detail(None)
    for kind in ('motion_blur', 'defocus'):
        assert detail(kind) < 0.5 * clean


def test_degradation_schedule_bursts():
    rng = np.random.default_rng(0)
    for _ in range(50):
        schedule = degradation_schedule(rng, 40, 0.3)
        flags = [s is not None for s in schedule]
        assert 0 < sum(flags) < 40 and abs(sum(flags) - 12) <= 1
        runs, length = [], 0
        for flag in flags + [False]:
            if flag:
                length += 1
            elif length:
                runs.append(length)
                length = 0
        assert all(2 <= r <= 7 or r == 1 for r in runs) and max(runs) <= 7
        # one degradation kind per burst
        for i in range(1, 40):
            if flags[i] and flags[i - 1]:
                assert schedule[i] == schedule[i - 1]
    assert degradation_schedule(rng, 40, 0.0) == [None] * 40


def test_idempotent_overwrite_and_bad_arguments(tmp_path):
    make_toy_vid(str(tmp_path), seed=1, **SMALL)
    ann = tmp_path / 'annotations' / 'train.json'
    mtime = ann.stat().st_mtime_ns
    make_toy_vid(str(tmp_path), seed=1, **SMALL)  # same arguments: nothing rewritten
    assert ann.stat().st_mtime_ns == mtime
    with pytest.raises(FileExistsError, match='overwrite'):
        make_toy_vid(str(tmp_path), seed=2, **SMALL)
    make_toy_vid(str(tmp_path), seed=2, overwrite=True, **SMALL)
    assert _load(tmp_path)['info']['toy_vid_params']['seed'] == 2
    with pytest.raises(ValueError, match='num_frames'):
        make_toy_vid(str(tmp_path / 'x'), num_frames=2)
    with pytest.raises(ValueError, match='degraded_fraction'):
        make_toy_vid(str(tmp_path / 'x'), degraded_fraction=0.9)
    with pytest.raises(ValueError, match='size_range'):
        make_toy_vid(str(tmp_path / 'x'), size_range=(20, 200))


def test_older_generator_version_is_regenerated(tmp_path):
    make_toy_vid(str(tmp_path), seed=1, **SMALL)
    ann = tmp_path / 'annotations' / 'train.json'
    data = json.loads(ann.read_text())
    data['info']['toy_vid_params']['version'] = 0
    data['annotations'] = []
    ann.write_text(json.dumps(data))
    make_toy_vid(str(tmp_path), seed=2, **SMALL)  # outdated: no error, rewritten
    assert len(_load(tmp_path)['annotations']) > 0
    assert _load(tmp_path)['info']['toy_vid_params']['seed'] == 2


def test_generator_memory_does_not_grow_with_the_number_of_videos(tmp_path):
    """Videos are rendered and written one at a time; only the CocoVID dict (a few hundred
    bytes per box) grows with the set. Measured: peak 2.19 / 2.41 / 3.62 MiB for 2 / 8 / 32
    videos of 30 frames, against 2.2 MiB of frames per video."""

    def peak(num_videos):
        out = str(tmp_path / f'v{num_videos}')
        return peak_traced_bytes(
            lambda: make_toy_vid(
                out,
                seed=0,
                num_train_videos=num_videos,
                num_val_videos=1,
                num_frames=30,
                progress=False,
            )
        )

    small, large = peak(2), peak(8)
    one_video = 30 * 128 * 192 * 3  # the frames of one video, uint8
    assert large - small < one_video / 2, (small, large)  # keeping them: +6 videos' worth

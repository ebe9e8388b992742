"""The toy video-segmentation generator: layout, determinism, labels, degradations."""

import json

import cv2
import numpy as np
import pytest
from fixtures.memory import peak_traced_bytes

from mmpsla.datasets.toy_seg import TOY_SEG_CLASSES, ToySegVideoDataset, make_toy_seg

SMALL = dict(num_train_snippets=6, num_val_snippets=4, frames_before=6, frames_after=3)


def test_layout_labels_and_degradations(tmp_path):
    stats = make_toy_seg(str(tmp_path), seed=0, degraded_fraction=0.5, **SMALL)
    assert stats['train']['snippets'] == 6 and stats['train']['frames'] == 60
    seq = sorted((tmp_path / 'leftImg8bit_sequence' / 'train').rglob('*_leftImg8bit.png'))
    labels = sorted((tmp_path / 'gtFine' / 'train').rglob('*_gtFine_labelTrainIds.png'))
    assert len(seq) == 60 and len(labels) == 6
    meta = json.loads((tmp_path / 'toy_seg_meta.json').read_text())
    degraded = meta['degraded']['train']
    ds = ToySegVideoDataset(
        data_root=str(tmp_path),
        frames_before=6,
        frames_after=3,
        data_prefix=dict(img_path='leftImg8bit_sequence/train', seg_map_path='gtFine/train'),
    )
    assert len(ds) == 6 and ds.metainfo['classes'] == TOY_SEG_CLASSES
    numbers = set()
    num_degraded = 0
    for i in range(len(ds)):
        info = ds.get_data_info(i)
        numbers.add(info['frame_ids'][6])
        label = cv2.imread(info['seg_map_path'], cv2.IMREAD_UNCHANGED)
        assert label.shape == (128, 192) and label.dtype == np.uint8
        assert set(np.unique(label)) <= set(range(len(TOY_SEG_CLASSES)))
        assert (label == 0).any() and (label > 0).any()
        kinds = info['frame_degradations']
        # bursts only around the annotated frame (1 before .. 2 after); key frames clean
        assert all(k is None for k in kinds[:5]) and kinds[-1] is None
        num_degraded += kinds[6] is not None
        for path, kind in zip(info['frame_paths'], kinds):
            stem = path.rsplit('/', 1)[1][: -len('_leftImg8bit.png')]
            assert (stem in degraded) == (kind is not None)
    assert numbers == {6, 6 + 47}  # two snippets per sequence, annotated at 6 and 53
    assert num_degraded == stats['train']['degraded_annotated'] and 0 < num_degraded < 6
    # a degraded annotated frame is far from its clean key frame (2 frames earlier), much
    # further than two clean consecutive frames are from each other
    info = next(info for info in map(ds.get_data_info, range(6)) if info['frame_degradations'][6])
    frames = [cv2.imread(info['frame_paths'][j]).astype(np.float32) for j in (3, 4, 6)]
    assert np.abs(frames[2] - frames[1]).mean() > 3 * np.abs(frames[1] - frames[0]).mean()


def test_deterministic_and_idempotent(tmp_path):
    a, b = tmp_path / 'a', tmp_path / 'b'
    make_toy_seg(str(a), seed=3, **SMALL)
    make_toy_seg(str(b), seed=3, **SMALL)
    files = sorted(p.relative_to(a) for p in a.rglob('*.png'))
    assert files == sorted(p.relative_to(b) for p in b.rglob('*.png'))
    for rel in files[:12]:
        assert (a / rel).read_bytes() == (b / rel).read_bytes()
    before = (a / 'toy_seg_meta.json').stat().st_mtime_ns
    make_toy_seg(str(a), seed=3, **SMALL)  # same arguments: no-op
    assert (a / 'toy_seg_meta.json').stat().st_mtime_ns == before
    with pytest.raises(FileExistsError, match='overwrite'):
        make_toy_seg(str(a), seed=4, **SMALL)
    make_toy_seg(str(a), seed=4, overwrite=True, **SMALL)
    with pytest.raises(ValueError, match='degraded_fraction'):
        make_toy_seg(str(tmp_path / 'c'), degraded_fraction=2)


def test_interrupted_regeneration_never_looks_complete(tmp_path, monkeypatch):
    """The meta file marks a complete set: it goes first when a set is replaced, so a
    regeneration killed half-way is regenerated next time, never reused."""
    from mmpsla.datasets.toy_seg import generator

    make_toy_seg(str(tmp_path), seed=0, **SMALL)
    real_snippet, calls = generator._snippet, []

    def die_on_third(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt('killed while generating')
        return real_snippet(*args, **kwargs)

    monkeypatch.setattr(generator, '_snippet', die_on_third)
    with pytest.raises(KeyboardInterrupt):
        make_toy_seg(str(tmp_path), seed=1, overwrite=True, **SMALL)
    assert not (tmp_path / 'toy_seg_meta.json').exists()
    monkeypatch.setattr(generator, '_snippet', real_snippet)
    stats = make_toy_seg(str(tmp_path), seed=0, **SMALL)  # regenerated in full
    assert stats['train']['frames'] == 60
    assert len(list((tmp_path / 'leftImg8bit_sequence' / 'train').rglob('*.png'))) == 60


def _generate(out_dir):
    return make_toy_seg(out_dir, seed=4, **SMALL)


def test_two_generators_started_at_once_make_one_valid_set(tmp_path):
    import multiprocessing as mp

    shared, reference = tmp_path / 'shared', tmp_path / 'reference'
    with mp.get_context('spawn').Pool(2) as pool:
        stats = pool.map(_generate, [str(shared)] * 2)
    assert stats[0] == stats[1] == _generate(str(reference))
    files = sorted(p.relative_to(reference) for p in reference.rglob('*.png'))
    assert files == sorted(p.relative_to(shared) for p in shared.rglob('*.png'))
    for rel in files:
        assert (shared / rel).read_bytes() == (reference / rel).read_bytes()


def test_generator_memory_does_not_grow_with_the_number_of_snippets(tmp_path):
    """Snippets are rendered and written one at a time: 4x the snippets, same peak."""

    def run(n, name):
        options = dict(SMALL, num_train_snippets=n, num_val_snippets=1)
        return lambda: make_toy_seg(str(tmp_path / name), seed=0, **options)

    small, large = peak_traced_bytes(run(3, 'small')), peak_traced_bytes(run(12, 'large'))
    one_snippet = 10 * 128 * 192 * 3  # the frames of one snippet, uint8
    # keeping every snippet's frames would add 9 snippets' worth
    assert large - small < one_snippet, (small, large)

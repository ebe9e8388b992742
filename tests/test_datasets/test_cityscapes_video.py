"""CityscapesVideoDataset, its frame samplers and clip pipeline on a CityScapes-layout tree."""

import os
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from mmengine.registry import DefaultScope

from mmpsla.datasets import CityscapesVideoDataset
from mmpsla.datasets.cityscapes_video import parse_cityscapes_stem
from mmpsla.datasets.cityscapes_video_transforms import (
    PackSegClipInputs,
    SegClipFrameSample,
    SegKeyFrameSchedule,
)

H, W = 24, 40


def write_tree(root: Path, annotated=((3, 19), (3, 294)), city='testcity', split='val', skip=()):
    """CityScapes layout: 30 frames around each annotated frame, labelTrainIds labels.

    Every frame of a snippet is the same picture: a label map (values 0..3, plus the
    snippet's own constant in the top-left pixel) times 60 in all channels.
    """
    img_dir = root / 'leftImg8bit_sequence' / split / city
    ann_dir = root / 'gtFine' / split / city
    img_dir.mkdir(parents=True, exist_ok=True)
    ann_dir.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    for seq, frame in annotated:
        label = rng.integers(0, 4, size=(H, W)).astype(np.uint8)
        stem = f'{city}_{seq:06d}_{frame:06d}'
        cv2.imwrite(str(ann_dir / f'{stem}_gtFine_labelTrainIds.png'), label)
        for number in range(frame - 19, frame + 11):
            name = f'{city}_{seq:06d}_{number:06d}_leftImg8bit.png'
            if name in skip:
                continue
            cv2.imwrite(str(img_dir / name), np.repeat(label[..., None] * 60, 3, axis=2))
    return root


def make_dataset(root, **kwargs):
    kwargs.setdefault(
        'data_prefix', dict(img_path='leftImg8bit_sequence/val', seg_map_path='gtFine/val')
    )
    with DefaultScope.overwrite_default_scope('mmseg'):  # the pipeline's types are mmseg's
        return CityscapesVideoDataset(data_root=str(root), **kwargs)


def test_parse_stem():
    assert parse_cityscapes_stem('frankfurt_000000_000294') == {
        'city': 'frankfurt',
        'sequence': 0,
        'frame': 294,
    }
    assert parse_cityscapes_stem('bad_homburg_000001_000019')['city'] == 'bad_homburg'
    with pytest.raises(ValueError, match='not a CityScapes file stem'):
        parse_cityscapes_stem('frankfurt_0_294')


def test_lists_snippets_from_label_names(tmp_path):
    ds = make_dataset(write_tree(tmp_path))
    assert len(ds) == 2
    infos = sorted((ds.get_data_info(i) for i in range(2)), key=lambda d: d['snippet'])
    assert [d['snippet'] for d in infos] == ['testcity_000003_000019', 'testcity_000003_000294']
    second = infos[1]
    assert second['frame_ids'] == list(range(275, 305))  # 294 - 19 .. 294 + 10
    assert second['annotated_index'] == 19
    assert second['frame_paths'][19].endswith('testcity_000003_000294_leftImg8bit.png')
    assert second['frame_paths'][0].endswith('testcity_000003_000275_leftImg8bit.png')
    assert second['img_path'] == second['frame_paths'][19]
    assert second['seg_map_path'].endswith('testcity_000003_000294_gtFine_labelTrainIds.png')
    assert second['frame_degradations'] == [None] * 30
    assert ds.metainfo['classes'][0] == 'road'  # CityScapes' 19 train ids


def test_offsets_expand_samples(tmp_path):
    ds = make_dataset(write_tree(tmp_path), key_frame_offsets=[0, 1, 2])
    assert len(ds) == 6
    assert sorted(ds.get_data_info(i)['key_frame_offset'] for i in range(6)) == [0, 0, 1, 1, 2, 2]


def test_missing_frame_named(tmp_path):
    missing = 'testcity_000003_000280_leftImg8bit.png'
    write_tree(tmp_path, skip=(missing,))
    with pytest.raises(FileNotFoundError, match=missing):
        make_dataset(tmp_path)
    assert len(make_dataset(tmp_path, check_frames=False)) == 2


def test_missing_labels_and_bad_names(tmp_path):
    with pytest.raises(FileNotFoundError, match='gtFine/val'):
        make_dataset(tmp_path)
    (tmp_path / 'gtFine' / 'val' / 'c').mkdir(parents=True)
    with pytest.raises(FileNotFoundError, match='no \\*_gtFine_labelTrainIds.png'):
        make_dataset(tmp_path)
    bad = tmp_path / 'gtFine' / 'val' / 'c' / 'c_12_000019_gtFine_labelTrainIds.png'
    cv2.imwrite(str(bad), np.zeros((4, 4), np.uint8))
    with pytest.raises(ValueError, match='c_12_000019_gtFine_labelTrainIds.png'):
        make_dataset(tmp_path)
    os.remove(bad)
    write_tree(tmp_path, annotated=((0, 5),), city='c')
    with pytest.raises(ValueError, match='has no 19 frames before it'):
        make_dataset(tmp_path)


def snippet_info(length=30, annotated=19):
    return dict(
        frame_paths=[f'f{i}.png' for i in range(length)],
        frame_ids=list(range(100, 100 + length)),
        annotated_index=annotated,
        seg_map_path='label.png',
        frame_degradations=[None] * length,
        snippet='s',
        reduce_zero_label=False,
        seg_fields=[],
    )


@pytest.mark.parametrize(
    'interval, offset, keys',
    [
        (5, 'middle', [2, 7, 12, 17]),  # segments [0-4] ... [15-19]: n=19 at offset 2
        (10, 'middle', [5, 15]),  # offset 4
        (5, 'worst', [0, 5, 10, 15]),  # offset l-1 = 4
        (5, 1, [3, 8, 13, 18]),
        (5, -3, [2, 7, 12, 17, 22]),  # the key frame 3 frames ahead of n
    ],
)
def test_schedule_keys(interval, offset, keys):
    assert SegKeyFrameSchedule(interval, offset).key_frames(19, 30, offset) == keys


def test_schedule_clip_and_borders():
    out = SegKeyFrameSchedule(5, 'middle').transform(snippet_info())
    assert out['frame_index'] == [19, 2, 7, 12, 17]
    assert out['is_key_frame'] == [False, True, True, True, True]
    assert out['key_frame_offset'] == [2] * 5
    assert out['seg_map_path'] == ['label.png', None, None, None, None]
    assert out['frame_id'] == [119, 102, 107, 112, 117]
    # worst case at the snippet's start: the key frame is clipped to frame 0
    out = SegKeyFrameSchedule(5, 'worst').transform(snippet_info(annotated=2))
    assert out['frame_index'] == [2, 0] and out['key_frame_offset'] == [2, 2]
    # a key frame ahead of n beyond the snippet's end is clipped to the last frame = n
    out = SegKeyFrameSchedule(5, -3).transform(snippet_info(annotated=29))
    assert out['frame_index'][0] == 29 and out['is_key_frame'][0] is True
    assert out['key_frame_offset'][0] == 0 and 29 not in out['frame_index'][1:]
    # middle schedule, last (short) segment [25-29]: n = 29, key 27
    out = SegKeyFrameSchedule(5, 'middle').transform(snippet_info(annotated=29))
    assert out['frame_index'] == [29, 2, 7, 12, 17, 22, 27]
    # offset 0: n is its own key frame and comes first, history after it
    out = SegKeyFrameSchedule(5, 0, max_key_frames=2).transform(snippet_info())
    assert out['frame_index'] == [19, 9, 14] and out['is_key_frame'] == [True, True, True]
    assert SegKeyFrameSchedule(5, max_key_frames=1).transform(snippet_info())['frame_index'] == [
        19,
        17,
    ]
    assert SegKeyFrameSchedule(5, max_key_frames=0).transform(snippet_info())['frame_index'] == [19]
    info = dict(snippet_info(), key_frame_offset=3)
    assert SegKeyFrameSchedule(5, 'average').transform(info)['frame_index'][-1] == 16
    with pytest.raises(KeyError, match='key_frame_offsets'):
        SegKeyFrameSchedule(5, 'average').transform(snippet_info())
    with pytest.raises(ValueError, match='offset'):
        SegKeyFrameSchedule(5, 'first')


def test_train_sampler_ranges():
    sampler = SegClipFrameSample(key_frame_interval=6, num_key_frames=2)
    k1s, k2s = set(), set()
    for _ in range(400):
        n, k1, k2 = sampler.sample_positions(19, 30)
        assert n == 19
        k1s.add(k1)
        k2s.add(k2)
    assert k1s == set(range(13, 17)) and k2s == set(range(16, 23))
    assert {sampler.sample_positions(0, 30)[1] for _ in range(50)} == {0}  # clipped
    out = SegClipFrameSample(5, num_key_frames=1).transform(snippet_info())
    assert out['is_key_frame'] == [False, True] and 17 <= out['frame_index'][1] <= 21
    assert SegClipFrameSample(5, num_key_frames=0).transform(snippet_info())['frame_index'] == [19]


def test_pipeline_same_crop_flip_across_frames(tmp_path):
    pipeline = [
        dict(type='SegClipFrameSample', key_frame_interval=5, num_key_frames=2),
        dict(
            type='TransformBroadcaster',
            share_random_params=True,
            transforms=[
                dict(type='LoadImageFromFile'),
                dict(type='LoadClipAnnotations'),
                dict(type='RandomCrop', crop_size=(16, 24), cat_max_ratio=0.9),
                dict(type='RandomFlip', prob=0.5),
            ],
        ),
        dict(type='PackSegClipInputs'),
    ]
    ds = make_dataset(write_tree(tmp_path), pipeline=pipeline)
    flips = set()
    for _ in range(12):
        out = ds[0]
        clip, sample = out['inputs'], out['data_samples']
        assert clip.shape == (3, 3, 16, 24) and clip.dtype == torch.uint8
        gt = sample.gt_sem_seg.data
        assert gt.shape == (1, 16, 24)
        for t in range(3):  # every frame shows the label map: same crop and flip
            assert torch.equal(clip[t, 0].long(), gt[0] * 60)
        assert sample.is_key_frame == [False, True, True]
        assert len(sample.frame_id) == 3 and sample.img_shape == (16, 24)
        flips.add(sample.flip)
    assert flips == {True, False}


def test_pack_rejects_unsampled():
    with pytest.raises(ValueError, match='per-frame lists'):
        PackSegClipInputs().transform({'img': np.zeros((4, 4, 3), np.uint8)})

"""ImagenetVIDDataset / ToyVIDDataset / VideoConcatDataset / TargetFrameSampler."""

import json

import pytest
from mmengine.registry import init_default_scope

from mmpsla.datasets import (
    VID_CLASSES,
    ImagenetVIDDataset,
    PSLAKeyFrameSchedule,
    TargetFrameSampler,
    ToyVIDDataset,
    VideoConcatDataset,
)


@pytest.fixture(autouse=True)
def _mmdet_scope():
    init_default_scope('mmdet')


def _vid_json(path, frame_order=(2, 0, 1, 3), extra_video=False, det=False):
    """Video 1: 4 frames (frame 2 without boxes, frames 1 and 3 train frames), or DET."""
    cats = [dict(id=i + 1, name=n) for i, n in enumerate(VID_CLASSES)]
    images, anns = [], []
    videos = [dict(id=1, name='v1')]
    if det:
        videos = []
        for k in range(3):
            images.append(dict(id=10 + k, file_name=f'det{k}.JPEG', height=60, width=80,
                               is_vid_train_frame=True))  # fmt: skip
            anns.append(dict(id=100 + k, image_id=10 + k, category_id=2, instance_id=1,
                             bbox=[1, 1, 20, 20], area=400, iscrowd=False))  # fmt: skip
    else:
        for f in frame_order:
            images.append(dict(id=f + 1, video_id=1, frame_id=f, file_name=f'v1/{f:06d}.JPEG',
                               height=60, width=80, is_vid_train_frame=f in (1, 3),
                               is_degraded=f == 3))  # fmt: skip
            if f != 2:
                anns.append(dict(id=f + 1, image_id=f + 1, video_id=1, category_id=5,
                                 instance_id=7, bbox=[10, 10, 20, 15], area=300,
                                 iscrowd=False, occluded=False))  # fmt: skip
    if extra_video:
        videos.append(dict(id=2, name='empty'))
    path.write_text(json.dumps(dict(categories=cats, videos=videos, images=images,
                                    annotations=anns)))  # fmt: skip
    return str(path)


def test_load_sorts_frames_and_marks_targets(tmp_path):
    ds = ImagenetVIDDataset(ann_file=_vid_json(tmp_path / 'a.json'), pipeline=[],
                            data_prefix=dict(img_path='Data/VID'))  # fmt: skip
    assert len(ds) == 1
    video = ds.get_data_info(0)
    assert video['video_length'] == 4
    assert [img['frame_id'] for img in video['images']] == [0, 1, 2, 3]
    assert video['images'][1]['img_path'] == 'Data/VID/v1/000001.JPEG'
    assert video['images'][0]['instances'] == [
        dict(ignore_flag=0, bbox=[10, 10, 30, 25], bbox_label=4, instance_id=7)
    ]
    assert [img['is_degraded'] for img in video['images']] == [False, False, False, True]
    assert ds.get_target_frame_inds(0) == [0, 1, 3]  # frame 2 has no box
    only = ImagenetVIDDataset(ann_file=_vid_json(tmp_path / 'b.json'), pipeline=[],
                              only_vid_train_frames=True)  # fmt: skip
    assert only.get_target_frame_inds(0) == [1, 3] and only.get_len_per_video(0) == 4
    keep = ImagenetVIDDataset(ann_file=_vid_json(tmp_path / 'c.json'), pipeline=[],
                              filter_cfg=dict(filter_empty_gt=False))  # fmt: skip
    assert keep.get_target_frame_inds(0) == [0, 1, 2, 3]


def test_det_images_are_one_frame_videos(tmp_path):
    ds = ImagenetVIDDataset(ann_file=_vid_json(tmp_path / 'd.json', det=True), pipeline=[])
    assert len(ds) == 3
    assert all(ds.get_len_per_video(i) == 1 for i in range(3))
    assert ds.get_data_info(0)['images'][0]['frame_id'] == 0


def test_clear_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match='make_toy_vid'):
        ImagenetVIDDataset(ann_file=str(tmp_path / 'missing.json'), pipeline=[])
    with pytest.raises(ValueError, match='no images.*empty'):
        ImagenetVIDDataset(ann_file=_vid_json(tmp_path / 'e.json', extra_video=True),
                           pipeline=[])  # fmt: skip
    empty = tmp_path / 'empty.json'
    empty.write_text(json.dumps(dict(categories=[dict(id=1, name='airplane')], images=[],
                                     annotations=[])))  # fmt: skip
    with pytest.raises(ValueError, match='not categories'):
        ImagenetVIDDataset(ann_file=str(empty), pipeline=[])
    with pytest.raises(ValueError, match='holds no images'):
        ImagenetVIDDataset(ann_file=str(empty), pipeline=[], metainfo=dict(classes=('airplane',)))
    repeated = tmp_path / 'repeated.json'
    data = json.loads(open(_vid_json(tmp_path / 'r.json')).read())
    data['images'][1]['frame_id'] = data['images'][0]['frame_id']
    repeated.write_text(json.dumps(data))
    with pytest.raises(ValueError, match='repeats a frame_id'):
        ImagenetVIDDataset(ann_file=str(repeated), pipeline=[])
    with pytest.raises(ValueError, match='not categories'):
        ToyVIDDataset(ann_file=_vid_json(tmp_path / 'f.json'), pipeline=[])


def test_test_mode_hands_video_level_info_to_frame_samplers(tmp_path):
    ann = _vid_json(tmp_path / 'g.json')
    ds = ImagenetVIDDataset(ann_file=ann, pipeline=[dict(type='PSLAKeyFrameSchedule',
                            key_frame_interval=4)], test_mode=True)  # fmt: skip
    assert isinstance(ds.pipeline.transforms[0], PSLAKeyFrameSchedule)
    out = ds[(0, 0)]
    assert out['frame_id'] == [2, 0] and out['key_frame_flags'] == [False, True]
    assert ds[(0, 3)]['frame_id'] == [3]
    # without a frame sampler: mmdet's one-frame dict of lists
    plain = ImagenetVIDDataset(ann_file=ann, pipeline=[], test_mode=True)
    assert plain[(0, 2)]['frame_id'] == [2] and plain[(0, 2)]['ori_video_length'] == [4]


def test_concat_and_target_frame_sampler(tmp_path):
    vid = dict(type='ImagenetVIDDataset', ann_file=_vid_json(tmp_path / 'h.json'),
               pipeline=[dict(type='PSLATrainFrameSample')])  # fmt: skip
    det = dict(type='ImagenetVIDDataset', ann_file=_vid_json(tmp_path / 'i.json', det=True),
               pipeline=[dict(type='PSLATrainFrameSample')])  # fmt: skip
    concat = VideoConcatDataset(datasets=[vid, det])
    sampler = TargetFrameSampler(concat, seed=0)
    assert sorted(sampler.indices) == [(0, 0), (0, 1), (0, 3), (1, 0), (2, 0), (3, 0)]
    assert len(sampler) == 6 and sorted(iter(sampler)) == sorted(sampler.indices)
    sampler.set_epoch(1)
    assert sorted(iter(sampler)) == sorted(sampler.indices)
    assert concat[(0, 3)]['frame_id'][2] == 3  # the target n is last
    assert concat[(2, 0)]['img_id'] == [11, 11, 11]  # DET image: 3 times the same frame
    assert concat.get_len_per_video(0) == 4 and concat.get_len_per_video(3) == 1
    with pytest.raises(ValueError, match='test mode'):
        TargetFrameSampler(ImagenetVIDDataset(ann_file=vid['ann_file'], pipeline=[],
                                              test_mode=True))  # fmt: skip
    with pytest.raises(ValueError, match='does not match'):
        VideoConcatDataset(datasets=[vid, dict(det, metainfo=dict(classes=('antelope',)))])


def test_target_frame_sampler_splits_frames_over_ranks(tmp_path, monkeypatch):
    from mmpsla.datasets.samplers import target_frame_sampler

    dataset = ImagenetVIDDataset(ann_file=_vid_json(tmp_path / 'j.json'), pipeline=[])
    per_rank = []
    for rank in range(2):
        monkeypatch.setattr(target_frame_sampler, 'get_dist_info', lambda r=rank: (r, 2))
        sampler = TargetFrameSampler(dataset, seed=3)
        per_rank.append(list(sampler))
        assert len(sampler) == 2  # 3 targets padded to 4 over 2 ranks
    assert per_rank[0] != per_rank[1]
    assert set(per_rank[0]) | set(per_rank[1]) == {(0, 0), (0, 1), (0, 3)}
    assert 'TargetFrameSampler(num_frames=3' in repr(sampler)
    unshuffled = TargetFrameSampler(dataset, shuffle=False, seed=0)
    # rank 1 of 2: positions 1 and 3 of [(0, 0), (0, 1), (0, 3)] padded with its start
    assert list(unshuffled) == [(0, 1), (0, 0)]

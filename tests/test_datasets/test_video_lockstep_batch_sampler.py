"""VideoLockstepBatchSampler: one frame of each of up to B videos per batch, in order."""

import pytest
from mmdet.registry import DATA_SAMPLERS

from mmpsla.datasets.samplers import VideoLockstepBatchSampler


def _pairs(lengths):
    return [(v, f) for v, n in enumerate(lengths) for f in range(n)]


@pytest.mark.parametrize('batch_size', [1, 2, 3, 5])
def test_every_frame_once_in_order_one_per_video(batch_size):
    lengths = [3, 5, 1, 4, 2]
    sampler = VideoLockstepBatchSampler(_pairs(lengths), batch_size)
    batches = list(sampler)
    assert len(sampler) == len(batches)
    flat = [item for batch in batches for item in batch]
    assert sorted(flat) == _pairs(lengths)  # every frame exactly once
    for batch in batches:
        assert 1 <= len(batch) <= batch_size
        assert len({v for v, _ in batch}) == len(batch)  # one frame per video
    for v, n in enumerate(lengths):  # each video's frames in order
        assert [f for b in batches for vv, f in b if vv == v] == list(range(n))
    if batch_size == 1:
        assert flat == _pairs(lengths)  # TrackImgSampler's order


def test_slots_refill_as_videos_end():
    batches = list(VideoLockstepBatchSampler(_pairs([2, 3, 2]), 2))
    assert batches == [
        [(0, 0), (1, 0)],
        [(0, 1), (1, 1)],
        [(1, 2), (2, 0)],  # video 2 takes video 0's slot while video 1 goes on
        [(2, 1)],
    ]


def test_built_by_the_runner_arguments_and_bad_input():
    built = DATA_SAMPLERS.build(
        dict(type='VideoLockstepBatchSampler'), default_args=dict(sampler=_pairs([2]), batch_size=2)
    )
    assert list(built) == [[(0, 0)], [(0, 1)]]
    with pytest.raises(ValueError, match='batch_size must be an int >= 1'):
        VideoLockstepBatchSampler(_pairs([2]), 0)
    with pytest.raises(ValueError, match='drop_last'):
        VideoLockstepBatchSampler(_pairs([2]), 2, drop_last=True)
    with pytest.raises(ValueError, match='TrackImgSampler'):
        list(VideoLockstepBatchSampler(range(4), 2))  # a plain index sampler

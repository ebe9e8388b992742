"""PSLATrainFrameSample ([k1, k2, n], paper §4.1) and PSLAKeyFrameSchedule (paper §3)."""

import random
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from vid_infos import make_video_infos, positions  # noqa: E402

from mmpsla.datasets import PSLAKeyFrameSchedule, PSLATrainFrameSample  # noqa: E402


def _draws(sampler, length, target, num=2000):
    random.seed(0)
    out = [positions(sampler.transform(make_video_infos(length, key_frame_id=target)))
           for _ in range(num)]  # fmt: skip
    return out


def test_train_sample_order_flags_and_metainfo():
    sampler = PSLATrainFrameSample(key_frame_interval=10)
    res = sampler.transform(make_video_infos(50, key_frame_id=30))
    assert res['key_frame_flags'] == [False, False, True]
    k1, k2, n = positions(res)
    assert n == 30 and 20 <= k1 <= 25 and 25 <= k2 <= 35
    assert res['frame_id'] == [100 + k1, 100 + k2, 130]
    assert res['video_id'] == [3, 3, 3]
    # mmdet convention: video_length = sampled frames, ori_video_length = the video's
    assert res['video_length'] == [3, 3, 3] and res['ori_video_length'] == [50] * 3
    assert 'PSLATrainFrameSample(key_frame_interval=10' in repr(sampler)


def test_train_sample_ranges_are_uniform_over_many_draws():
    draws = _draws(PSLATrainFrameSample(key_frame_interval=10), 60, 30)
    k1s = [d[0] for d in draws]
    k2s = [d[1] for d in draws]
    assert set(k1s) == set(range(20, 26))  # [n - l, n - l/2]
    assert set(k2s) == set(range(25, 36))  # [n - l/2, n + l/2]
    for values, support in ((k1s, 6), (k2s, 11)):
        for v in set(values):  # each value near 1/support of the draws
            assert abs(values.count(v) / len(values) - 1 / support) < 0.04


def test_train_sample_odd_interval_and_borders():
    # l = 7: k1 in [n-7, n-3.5] -> [13, 16]; k2 in [n-3.5, n+3.5] -> [17, 23]
    draws = _draws(PSLATrainFrameSample(key_frame_interval=7), 40, 20, 1000)
    assert {d[0] for d in draws} == set(range(13, 17))
    assert {d[1] for d in draws} == set(range(17, 24))
    # near the start, k1's interval [-10, -5] lies before the video -> frame 0
    draws = _draws(PSLATrainFrameSample(key_frame_interval=10), 40, 3, 500)
    assert {d[0] for d in draws} == {0}
    assert {d[1] for d in draws} == set(range(0, 9))
    # k1 partly clipped: n = 7 -> [-3, 2] -> [0, 2]
    draws = _draws(PSLATrainFrameSample(key_frame_interval=10), 40, 7, 500)
    assert {d[0] for d in draws} == {0, 1, 2}
    # at the end k2's interval is clipped to the last frame
    draws = _draws(PSLATrainFrameSample(key_frame_interval=10), 40, 39, 500)
    assert {d[1] for d in draws} == set(range(34, 40))


def test_train_sample_interval_longer_than_video_and_still_image():
    draws = _draws(PSLATrainFrameSample(key_frame_interval=100), 8, 4, 500)
    assert {d[0] for d in draws} == {0}
    assert {d[1] for d in draws} == set(range(8))
    res = PSLATrainFrameSample().transform(make_video_infos(1))
    assert positions(res) == [0, 0, 0]
    assert res['key_frame_flags'] == [False, False, True]
    # the three copies are independent dicts
    res['instances'][0].append('x')
    assert len(res['instances'][1]) == 1


def test_train_sample_random_target_respects_target_frames():
    random.seed(1)
    sampler = PSLATrainFrameSample()
    targets = {positions(sampler.transform(make_video_infos(30, target_frame_inds=[4, 17])))[2]
               for _ in range(100)}  # fmt: skip
    assert targets == {4, 17}


def test_train_sample_bad_arguments():
    with pytest.raises(ValueError, match='key_frame_interval'):
        PSLATrainFrameSample(key_frame_interval=0)
    with pytest.raises(ValueError, match='key_frame_id'):
        PSLATrainFrameSample().transform(make_video_infos(5, key_frame_id=5))
    with pytest.raises(ValueError, match="'images'"):
        PSLATrainFrameSample().transform({'img_path': ['a.jpg'], 'video_length': [1]})


def _schedule(length, interval, mode):
    sched = PSLAKeyFrameSchedule(key_frame_interval=interval, mode=mode)
    out = []
    for i in range(length):
        res = sched.transform(make_video_infos(length, key_frame_id=i))
        out.append((positions(res), res['key_frame_flags'], res['key_frame_id'],
                    res['is_key_frame']))  # fmt: skip
    return out


def test_schedule_middle_mode_with_short_last_segment():
    out = _schedule(7, 3, 'middle')  # segments [0 1 2] [3 4 5] [6]; keys 1, 4, 6
    assert out[0] == ([1, 0], [False, True], [101, 101], [True, False])
    assert out[1] == ([1], [True], [101], [True])
    assert out[2] == ([2], [True], [101], [False])
    assert out[3] == ([4, 3], [False, True], [104, 104], [True, False])
    assert out[4] == ([4], [True], [104], [True])
    assert out[5] == ([5], [True], [104], [False])
    assert out[6] == ([6], [True], [106], [True])  # 1-frame segment: its own key


def test_schedule_middle_mode_default_interval():
    out = _schedule(25, 10, 'middle')  # keys 5, 15, 20 (last segment 20..24 -> 20 + 2)
    attached = [i for i, o in enumerate(out) if len(o[0]) == 2]
    assert attached == [0, 10, 20]
    assert [out[i][0][0] for i in attached] == [5, 15, 22]
    assert [o[2][-1] - 100 for o in out] == [5] * 10 + [15] * 10 + [22] * 5
    assert [i for i, o in enumerate(out) if o[3][-1]] == [5, 15, 22]


def test_schedule_first_mode_and_interval_longer_than_video():
    out = _schedule(7, 3, 'first')
    assert all(len(o[0]) == 1 for o in out)  # never a look-ahead
    assert [o[2][0] - 100 for o in out] == [0, 0, 0, 3, 3, 3, 6]
    assert [o[3][0] for o in out] == [True, False, False, True, False, False, True]
    out = _schedule(6, 50, 'middle')  # one segment, key = 3
    assert out[0][0] == [3, 0]
    assert [o[2][-1] - 100 for o in out] == [3] * 6
    assert [len(o[0]) for o in out] == [2, 1, 1, 1, 1, 1]
    out = _schedule(1, 10, 'middle')
    assert out == [([0], [True], [100], [True])]


def test_schedule_arguments_and_repr():
    with pytest.raises(ValueError, match='mode'):
        PSLAKeyFrameSchedule(mode='last')
    with pytest.raises(ValueError, match='key_frame_interval'):
        PSLAKeyFrameSchedule(key_frame_interval=-1)
    assert repr(PSLAKeyFrameSchedule(4, 'first')).startswith(
        "PSLAKeyFrameSchedule(key_frame_interval=4, mode='first'"
    )

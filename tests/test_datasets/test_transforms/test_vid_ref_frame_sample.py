"""VIDRefFrameSample: the DFF / FGFA frame samplers."""

import random
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from vid_infos import make_video_infos, positions  # noqa: E402

from mmpsla.datasets import VIDRefFrameSample  # noqa: E402


def _run(sampler, length, target):
    return sampler.transform(make_video_infos(length, key_frame_id=target))


def test_uniform_training_refs():
    random.seed(0)
    sampler = VIDRefFrameSample(method='uniform', num_ref_imgs=1, frame_range=9)
    seen = set()
    for _ in range(600):
        res = _run(sampler, 40, 20)
        assert res['key_frame_flags'] == [False, True]
        ref, target = positions(res)
        assert target == 20
        seen.add(ref)
    assert seen == set(range(11, 30)) - {20}  # target filtered out
    seen = {positions(_run(sampler, 40, 1))[0] for _ in range(300)}
    assert seen == set(range(0, 11)) - {1}  # clipped at the start
    # two refs: distinct, ascending, target last
    sampler = VIDRefFrameSample(method='uniform', num_ref_imgs=2, frame_range=[-3, 0])
    for _ in range(100):
        refs = positions(_run(sampler, 40, 20))[:2]
        assert refs[0] < refs[1] and set(refs) <= {17, 18, 19}


def test_bilateral_uniform_training_refs():
    random.seed(0)
    sampler = VIDRefFrameSample(method='bilateral_uniform', num_ref_imgs=2, frame_range=9)
    lefts, rights = set(), set()
    for _ in range(600):
        res = _run(sampler, 40, 20)
        left, right, target = positions(res)
        assert res['key_frame_flags'] == [False, False, True] and target == 20
        lefts.add(left)
        rights.add(right)
    assert lefts == set(range(11, 20)) and rights == set(range(21, 30))
    # at the first frame the empty left side is replaced by the right side
    for _ in range(50):
        refs = positions(_run(sampler, 40, 0))[:2]
        assert all(1 <= r <= 9 for r in refs)
    assert positions(_run(sampler, 1, 0)) == [0, 0, 0]  # still image


def test_fix_stride_test_refs_are_attached_once():
    sampler = VIDRefFrameSample(method='test_with_fix_stride', frame_range=[-3, 3], stride=2)
    length = 12
    attached = []
    for i in range(length):
        res = _run(sampler, length, i)
        pos = positions(res)
        assert pos[-1] == i and res['key_frame_flags'][-1] and not any(res['key_frame_flags'][:-1])
        assert res['frame_stride'][0] == 2 and res['num_left_ref_imgs'][0] == 3
        assert res['num_right_ref_imgs'][0] == 3
        attached.append(pos[:-1])
        # every frame of the window has been attached by now (cacheable)
        seen = {p for refs in attached for p in refs}
        assert set(sampler.window(i, length)) <= seen
    assert attached[0] == [0, 1, 2, 3, 4, 5, 6]
    assert attached[1] == [7] and attached[5] == [11] and attached[11] == [11]
    assert sampler.window(1, length) == (0, 0, 0, 1, 3, 5, 7)


def test_key_frame_interval_test_mode():
    sampler = VIDRefFrameSample(method='test_key_frame_interval', key_frame_interval=4)
    out = [_run(sampler, 10, i) for i in range(10)]
    assert all(positions(o) == [i] and o['key_frame_flags'] == [True] for i, o in enumerate(out))
    assert [o['is_key_frame'][0] for o in out] == [i % 4 == 0 for i in range(10)]
    assert [o['key_frame_id'][0] - 100 for o in out] == [0] * 4 + [4] * 4 + [8] * 2


def test_bad_arguments_and_repr():
    with pytest.raises(ValueError, match='method'):
        VIDRefFrameSample(method='adaptive')
    with pytest.raises(ValueError, match='even'):
        VIDRefFrameSample(method='bilateral_uniform', num_ref_imgs=3)
    with pytest.raises(ValueError, match='frame_range'):
        VIDRefFrameSample(frame_range=[2, 5])
    with pytest.raises(ValueError, match='stride'):
        VIDRefFrameSample(stride=0)
    assert "method='uniform'" in repr(VIDRefFrameSample())

"""Hand-computed cases of the ImageNet VID devkit evaluation."""

import numpy as np
import pytest

from mmpsla.evaluation.functional import (
    average_precision,
    box_iou,
    eval_vid_map,
    match_frame,
    motion_category,
    motion_ious,
    small_object_thr,
)

BIG = [0.0, 0.0, 100.0, 100.0]


def _gt(boxes, labels, ignore=None):
    boxes = np.asarray(boxes, np.float64).reshape(-1, 4)
    ignore = np.zeros(len(boxes), bool) if ignore is None else np.asarray(ignore, bool)
    return boxes, np.asarray(labels, np.int64), ignore


def _det(boxes, scores, labels):
    return (
        np.asarray(boxes, np.float64).reshape(-1, 4),
        np.asarray(scores, np.float64),
        np.asarray(labels, np.int64),
    )


def test_box_iou_and_small_object_threshold():
    iou = box_iou(np.array([[0, 0, 10, 10]]), np.array([[5, 0, 15, 10], [20, 20, 30, 30]]))
    np.testing.assert_allclose(iou, [[50 / 150, 0.0]])
    # w = h = 10: 100 / (20 * 20) = 0.25 ; w = h = 100: min(0.5, 10000 / 12100) = 0.5
    np.testing.assert_allclose(small_object_thr(np.array([[0, 0, 10, 10], BIG])), [0.25, 0.5])


def test_average_precision_hand_computed():
    # TP, FP, TP with 2 positives: recall .5 .5 1, precision 1 .5 2/3 -> .5*1 + .5*2/3
    ap = average_precision(np.array([1, 0, 1]), np.array([0, 1, 0]), 2)
    assert ap == pytest.approx(5 / 6)
    assert average_precision(np.zeros(0), np.zeros(0), 3) == 0.0
    assert np.isnan(average_precision(np.zeros(0), np.zeros(0), 0))


def test_match_frame_one_match_per_gt_and_best_unmatched():
    gts = np.array([[0, 0, 100, 100], [10, 0, 110, 100]], np.float64)
    dets = np.array([[0, 0, 100, 100], [0, 0, 100, 100], [0, 0, 100, 100]], np.float64)
    # first det takes gt0 (IoU 1), second the remaining gt1 (IoU .818), third is a FP
    np.testing.assert_array_equal(match_frame(dets, gts, np.zeros(2, bool)), [1, 1, 0])
    # a det matching only an ignored gt is neither TP nor FP
    np.testing.assert_array_equal(match_frame(dets[:2], gts[:1], np.array([True])), [-1, -1])


def test_eval_map_perfect_empty_and_hand_case():
    gts = {1: _gt([BIG], [0]), 2: _gt([BIG], [0]), 3: _gt([[0, 0, 10, 10]], [1])}
    perfect = {1: _det([BIG], [0.9], [0]), 2: _det([BIG], [0.8], [0]),
               3: _det([[0, 0, 10, 10]], [0.5], [1])}  # fmt: skip
    assert eval_vid_map(perfect, gts, 2)[0] == pytest.approx(1.0)
    assert eval_vid_map({}, gts, 2)[0] == pytest.approx(0.0)

    # class 0: duplicate on img 1 (FP at .8) between two TPs -> AP 5/6
    # class 1: a small GT (10x10, threshold .25) hit at IoU 1/3 -> TP -> AP 1
    # class 2: no GT anywhere -> nan, left out of the mean
    dets = {
        1: _det([BIG, BIG], [0.9, 0.8], [0, 0]),
        2: _det([BIG], [0.7], [0]),
        3: _det([[5, 0, 15, 10]], [0.6], [1]),
    }
    mean_ap, aps = eval_vid_map(dets, gts, 3)
    assert aps[0] == pytest.approx(5 / 6)
    assert aps[1] == pytest.approx(1.0)
    assert np.isnan(aps[2])
    assert mean_ap == pytest.approx((5 / 6 + 1.0) / 2)
    # the same small-object hit at the plain .5 threshold would be a miss: shrink the box
    # to 10x10 GT vs det IoU 1/3 with a 100x100 GT-sized threshold is a FP
    big_gts = {1: _gt([[0, 0, 100, 100]], [0])}
    shifted = {1: _det([[50, 0, 150, 100]], [0.9], [0])}  # IoU 1/3 < .5
    assert eval_vid_map(shifted, big_gts, 1)[0] == pytest.approx(0.0)


def test_motion_iou_and_breakdown():
    # instance 1 static, instance 2 moves 5 px / frame with a 20 px box -> fast
    frames, gts, dets = [], {}, {}
    for f in range(21):
        boxes = np.array([[10, 10, 40, 40], [5 * f, 60, 5 * f + 20, 80]], np.float64)
        frames.append((7, f, boxes, np.array([1, 2])))
        gts[f] = _gt(boxes, [0, 0])
        # both detected perfectly, the moving one with the higher score
        dets[f] = _det(boxes[::-1], [0.9, 0.5], [0, 0])
    mious = motion_ious(frames, window=10)
    assert mious[(7, 10)][0] == pytest.approx(1.0)
    # frame 10, instance 2: shifts of 5k px, k = 1..10 each side: IoU (20-5k)/(20+5k) for k<4
    expected = np.mean([max(20 - 5 * k, 0) / (20 + 5 * k) for k in range(1, 11)] * 2)
    assert mious[(7, 10)][1] == pytest.approx(expected)
    cats = {f: motion_category(mious[(7, f)]) for f in range(21)}
    assert all(list(c) == ['slow', 'fast'] for c in cats.values())
    np.testing.assert_array_equal(motion_category([0.95, 0.9, 0.7, 0.69]),
                                  ['slow', 'medium', 'medium', 'fast'])  # fmt: skip
    for name in ('slow', 'fast'):
        care = {f: cats[f] == name for f in range(21)}
        # the other category's detections are ignored, not false positives
        assert eval_vid_map(dets, gts, 1, gt_care=care)[0] == pytest.approx(1.0)
    care = {f: cats[f] == 'medium' for f in range(21)}
    assert np.isnan(eval_vid_map(dets, gts, 1, gt_care=care)[0])
    # detect only the static object: slow 1.0, fast 0.0
    only_static = {f: _det(gts[f][0][:1], [0.9], [0]) for f in range(21)}
    for name, value in (('slow', 1.0), ('fast', 0.0)):
        care = {f: cats[f] == name for f in range(21)}
        assert eval_vid_map(only_static, gts, 1, gt_care=care)[0] == pytest.approx(value)

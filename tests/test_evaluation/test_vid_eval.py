"""Hand-computed cases of the ImageNet VID devkit's rules (FGFA's evaluation)."""

import numpy as np
import pytest

from mmpsla.evaluation.functional import (
    MOTION_RANGES,
    average_precision,
    box_iou,
    empty_frame_weight,
    eval_vid_map,
    in_motion_range,
    match_frame,
    motion_ious,
    score_frame,
    small_object_thr,
)

PIX = 'inclusive_pixels'


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


def _ap(dets, gts, convention=PIX, **kwargs):
    return eval_vid_map(dets, gts, 1, box_convention=convention, **kwargs)['all'][0]


def test_box_iou_in_both_conventions():
    a, b = np.array([[0, 0, 9, 9]]), np.array([[5, 0, 14, 9], [20, 20, 30, 30]])
    # pixels: 5 x 10 shared pixels of 100 + 100 -> 50 / 150; edges: 4 x 9 of 81 + 81
    np.testing.assert_allclose(box_iou(a, b, PIX), [[50 / 150, 0.0]])
    np.testing.assert_allclose(box_iou(a, b), [[36 / 126, 0.0]])
    one_pixel = np.array([[3, 3, 3, 3]])
    assert box_iou(one_pixel, one_pixel, PIX)[0, 0] == 1.0  # a one-pixel box is a box
    assert box_iou(one_pixel, one_pixel)[0, 0] == 0.0  # as edges it has no area
    # touching pixel rows overlap in pixels, not as edges
    assert box_iou([[0, 0, 9, 9]], [[9, 0, 18, 9]], PIX)[0, 0] == pytest.approx(10 / 190)
    assert box_iou([[0, 0, 9, 9]], [[9, 0, 18, 9]])[0, 0] == 0.0
    with pytest.raises(ValueError, match='box_convention'):
        box_iou(a, b, 'pixels')


def test_one_pixel_difference_at_the_iou_threshold():
    gts = {1: _gt([[0, 0, 99, 99]], [0])}  # 100 x 100 pixels: threshold 0.5
    # 100 x 50 pixels inside it: IoU 5000 / 10000 = 0.5 exactly -> a hit (>=)
    assert _ap({1: _det([[0, 0, 99, 49]], [0.9], [0])}, gts) == 1.0
    # one pixel row less: 4900 / 10000 -> a miss
    assert _ap({1: _det([[0, 0, 99, 48]], [0.9], [0])}, gts) == 0.0
    # the same numbers read as edges (no +1): 99 * 49 / 99 ** 2 = 0.495 -> a miss
    assert _ap({1: _det([[0, 0, 99, 49]], [0.9], [0])}, gts, 'continuous') == 0.0


def test_small_box_right_at_its_relaxed_threshold():
    # 10 x 10 pixels: threshold min(0.5, 100 / (20 * 20)) = 0.25; as edges 81 / 361
    np.testing.assert_allclose(small_object_thr([[0, 0, 9, 9]], 0.5, PIX), [0.25])
    np.testing.assert_allclose(small_object_thr([[0, 0, 9, 9]]), [81 / 361])
    np.testing.assert_allclose(small_object_thr([[0, 0, 99, 99]], 0.5, PIX), [0.5])
    np.testing.assert_allclose(small_object_thr([[4, 4, 4, 4]], 0.5, PIX), [1 / 121])
    gts = {1: _gt([[0, 0, 9, 9]], [0])}
    # 10 x 40 pixels holding the box: IoU 100 / 400 = 0.25 -> a hit
    assert _ap({1: _det([[0, 0, 9, 39]], [0.9], [0])}, gts) == 1.0
    # one pixel row more: 100 / 410 < 0.25 -> a miss
    assert _ap({1: _det([[0, 0, 9, 40]], [0.9], [0])}, gts) == 0.0
    # a one-pixel ground-truth box is hit by a 3 x 3 box around it (IoU 1/9 >= 1/121)
    assert _ap({1: _det([[3, 3, 5, 5]], [0.9], [0])}, {1: _gt([[4, 4, 4, 4]], [0])}) == 1.0


def test_matching_takes_the_best_free_box_of_its_class():
    gts = np.array([[0, 0, 99, 99], [10, 0, 109, 99], [0, 0, 99, 99]], np.float64)
    labels = np.array([0, 0, 1])
    dets = np.array([[0, 0, 99, 99]] * 4, np.float64)
    matched, ious = match_frame(dets, np.array([0, 0, 0, 1]), gts, labels, 0.5, PIX)
    # gt0 (IoU 1), then the free gt1 (IoU .82), then nothing; the class-1 det takes gt2
    np.testing.assert_array_equal(matched, [0, 1, -1, 2])
    assert ious.shape == (4, 3) and ious[0, 1] == pytest.approx(9000 / 11000)


def test_motion_iou_exactly_0_7_and_0_9_fall_in_two_categories():
    frames = [
        ('v', 0, np.array([[0, 0, 9, 0], [0, 5, 9, 5]]), np.array([1, 2])),
        # instance 1: 7 of its 10 pixels stay -> 0.7; instance 2: 9 of 10 -> 0.9
        ('v', 1, np.array([[0, 0, 6, 0], [0, 5, 8, 5]]), np.array([1, 2])),
        ('w', 0, np.array([[0, 0, 9, 9]]), np.array([1])),  # alone: static
    ]
    mious = motion_ious(frames, 10, PIX)
    np.testing.assert_array_equal(mious[('v', 0)], [0.7, 0.9])
    np.testing.assert_array_equal(mious[('v', 1)], [0.7, 0.9])
    np.testing.assert_array_equal(mious[('w', 0)], [1.0])
    member = {
        name: in_motion_range([0.7, 0.9], rng).tolist() for name, rng in MOTION_RANGES.items()
    }
    assert member == {'fast': [True, False], 'medium': [True, True], 'slow': [False, True]}
    # a 0.7 box found counts in the fast and the medium AP
    gts = {1: _gt([[0, 0, 9, 0]], [0])}
    dets = {1: _det([[0, 0, 9, 0]], [0.9], [0])}
    for name, expected in (('fast', 1.0), ('medium', 1.0), ('slow', np.nan)):
        care = {1: in_motion_range([0.7], MOTION_RANGES[name])}
        res = eval_vid_map(dets, gts, 1, box_convention=PIX, categories={name: (care, 1.0)})
        np.testing.assert_equal(res[name][0], expected)


def test_motion_iou_averages_the_window_and_skips_absent_frames():
    # a 10-pixel-wide box moving 1 px per frame over frames 0, 1, 3 (absent on 2), window 2
    frames = [('v', f, np.array([[f, 0, f + 9, 9]]), np.array([7])) for f in (0, 1, 3)]
    mious = motion_ious(frames, 2, PIX)
    # frame 1: neighbours 0 (IoU 9/11) and 3 (IoU 8/12); frame 0: only 1 (3 is 3 away)
    assert mious[('v', 1)][0] == pytest.approx((9 / 11 + 8 / 12) / 2)
    assert mious[('v', 0)][0] == pytest.approx(9 / 11)
    assert mious[('v', 3)][0] == pytest.approx(8 / 12)


def test_detection_absorbed_by_an_ignored_box_of_another_motion_category():
    # A is slow (cared for in 'slow'), B is fast (ignored there); one det, IoU 1 with B
    # and .82 with A: it takes B (the best free box) and is absorbed, so A stays missed
    gts = {1: _gt([[0, 0, 99, 99], [10, 0, 109, 99]], [0, 0])}
    dets = {1: _det([[10, 0, 109, 99]], [0.9], [0])}
    slow = {1: np.array([True, False])}
    res = eval_vid_map(dets, gts, 1, box_convention=PIX, categories={'slow': (slow, 1.0)})
    assert res['slow'][0] == 0.0  # no TP, no FP: recall 0
    # a second det then takes A: precision 1 (the absorbed det costs nothing)
    dets = {1: _det([[10, 0, 109, 99], [0, 0, 99, 99]], [0.9, 0.8], [0, 0])}
    res = eval_vid_map(dets, gts, 1, box_convention=PIX, categories={'slow': (slow, 1.0)})
    assert res['slow'][0] == 1.0


def test_false_positive_weights():
    gt_boxes = np.array([[0, 0, 9, 9], [50, 50, 59, 59], [80, 0, 89, 9]], np.float64)
    care = np.array([True, False, False])  # one cared-for box, two ignored
    dets = np.array([
        [0, 0, 9, 9],      # class 1 (no GT of its class): overlaps the cared-for box -> 1
        [50, 50, 59, 59],  # overlaps an ignored box most -> 0
        [20, 20, 29, 29],  # overlaps nothing: a tie at 0 -> share of ignored boxes 2/3
    ], np.float64)  # fmt: skip
    matched, ious = match_frame(dets, np.array([1, 1, 1]), gt_boxes, np.zeros(3), 0.5, PIX)
    tp, fp = score_frame(matched, ious, care)
    np.testing.assert_array_equal(tp, [0, 0, 0])
    np.testing.assert_allclose(fp, [1.0, 0.0, 2 / 3])
    # every box cared for (the overall AP): every unmatched det is a plain FP
    np.testing.assert_allclose(score_frame(matched, ious, np.ones(3, bool))[1], [1, 1, 1])
    # a frame without ground truth: the empty-frame weight
    empty = match_frame(dets, np.zeros(3), np.zeros((0, 4)), np.zeros(0), 0.5, PIX)
    np.testing.assert_allclose(score_frame(*empty, np.zeros(0, bool), 0.25)[1], [0.25] * 3)


def test_empty_frame_weight_counts_each_empty_frame_as_motion_iou_0():
    mious = np.array([1.0, 0.95, 0.8, 0.7, 0.3])
    assert empty_frame_weight(mious, 0, MOTION_RANGES['slow']) == pytest.approx(2 / 5)
    assert empty_frame_weight(mious, 3, MOTION_RANGES['slow']) == pytest.approx(2 / 8)
    assert empty_frame_weight(mious, 3, MOTION_RANGES['fast']) == pytest.approx(5 / 8)
    assert empty_frame_weight(mious, 3, (0.0, 1.0)) == 1.0


def test_frames_without_detections_and_without_ground_truth():
    gts = {1: _gt([[0, 0, 9, 9]], [0]), 2: _gt([[0, 0, 9, 9]], [0]), 3: _gt([], [])}
    # frame 2 got no detection at all: its box is missed -> recall 1/2, AP 1/2
    dets = {1: _det([[0, 0, 9, 9]], [0.9], [0])}
    assert _ap(dets, gts) == pytest.approx(0.5)
    # a det in the empty frame 3 scored first: FP weight 1 overall
    dets[3] = _det([[0, 0, 9, 9]], [0.95], [0])
    # precision 0, 1/2 (recall 1/2) -> envelope 1/2 over recall 1/2
    assert _ap(dets, gts) == pytest.approx(0.25)
    # with weight 0.5 (e.g. a motion category): precision 1 / 1.5 at recall 1/2
    res = eval_vid_map(dets, gts, 1, box_convention=PIX, categories={'x': (None, 0.5)})
    assert res['x'][0] == pytest.approx(0.5 * 2 / 3)


def test_average_precision_hand_computed():
    # TP, FP, TP with 2 positives: recall .5 .5 1, precision 1 .5 2/3 -> .5 + .5 * 2/3
    assert average_precision(np.array([1, 0, 1]), np.array([0, 1, 0]), 2) == pytest.approx(5 / 6)
    # a FP of weight 0.5 in between: precision 2 / 2.5 at recall 1
    ap = average_precision(np.array([1, 0, 1]), np.array([0, 0.5, 0]), 2)
    assert ap == pytest.approx(0.5 + 0.5 * 0.8)
    assert average_precision(np.zeros(0), np.zeros(0), 3) == 0.0
    assert np.isnan(average_precision(np.zeros(0), np.zeros(0), 0))


def test_frame_subsets_and_classes_without_ground_truth():
    gts = {1: _gt([[0, 0, 9, 9]], [0]), 2: _gt([[0, 0, 9, 9]], [1])}
    dets = {1: _det([[0, 0, 9, 9]], [0.9], [0]), 2: _det([[40, 40, 49, 49]], [0.8], [1]),
            3: _det([[0, 0, 9, 9]], [0.7], [2])}  # fmt: skip
    res = eval_vid_map(
        dets, gts, 3, box_convention=PIX, frame_subsets={'first': [1], 'second': [2]}
    )
    assert res['all'][0] == pytest.approx(0.5)  # class 2 has no GT (and frame 3 is not evaluated)
    assert res['all'][1][:2] == [1.0, 0.0] and np.isnan(res['all'][1][2])
    assert res['first'][0] == 1.0 and res['second'][0] == 0.0
    # crowd (ignored) boxes are never positives
    crowd = {1: _gt([[0, 0, 9, 9]], [0], ignore=[True])}
    assert np.isnan(eval_vid_map(dets, crowd, 1, box_convention=PIX)['all'][0])

"""Seq-NMS (mmpsla.evaluation.post.seq_nms) on hand-built videos and against brute force."""

import itertools

import numpy as np
import pytest

from mmpsla.evaluation.post import seq_nms

BOX = [0.0, 0.0, 10.0, 10.0]


def _frame(boxes, scores, labels=None):
    labels = [0] * len(scores) if labels is None else labels
    return (
        np.asarray(boxes, np.float64).reshape(-1, 4),
        np.asarray(scores, np.float64),
        np.asarray(labels, np.int64),
    )


def _empty():
    return _frame([], [])


def test_track_is_rescored_to_avg_or_max():
    scores = [0.9, 0.1, 0.1, 0.1, 0.9]
    video = [_frame([BOX], [s]) for s in scores]
    avg = seq_nms(video)
    assert [float(f[1][0]) for f in avg] == pytest.approx([0.42] * 5)
    assert all(len(f[1]) == 1 for f in avg)
    mx = seq_nms(video, rescore='max')
    assert [float(f[1][0]) for f in mx] == pytest.approx([0.9] * 5)
    # slightly moving box (IoU 0.82 between neighbours) is still one track
    moving = [_frame([[t, 0, 10 + t, 10]], [s]) for t, s in enumerate(scores)]
    assert [float(f[1][0]) for f in seq_nms(moving)] == pytest.approx([0.42] * 5)
    # the input is not modified
    assert [float(f[1][0]) for f in video] == scores


def test_duplicate_is_suppressed_and_far_box_survives():
    dup = [1.0, 0.0, 11.0, 10.0]  # IoU 90 / 110 = 0.82 with BOX
    far = [100.0, 100.0, 120.0, 120.0]
    video = [
        _frame([BOX], [0.8]),
        _frame([dup, far, BOX], [0.6, 0.3, 0.8]),
        _frame([BOX], [0.8]),
    ]
    out = seq_nms(video)
    boxes, scores, labels = out[1]
    np.testing.assert_array_equal(boxes, [far, BOX])  # input order kept, duplicate gone
    assert scores == pytest.approx([0.3, 0.8])  # the far box is its own sequence
    np.testing.assert_array_equal(labels, [0, 0])
    assert [len(f[1]) for f in out] == [1, 2, 1]
    # with a stricter suppression threshold the duplicate survives as its own sequence:
    # its links to frames 0 and 2 were used up by the first sequence
    boxes, scores, _ = seq_nms(video, suppress_iou_thr=0.9)[1]
    np.testing.assert_array_equal(boxes, [dup, far, BOX])
    assert scores == pytest.approx([0.6, 0.3, 0.8])


def test_max_sum_sequence_beats_a_single_high_score():
    # A-B-C linked (sum 1.5); D overlaps B with IoU 60 / 140 = 0.43: not linked (< 0.5),
    # but suppressed (>= 0.3). The sequence is selected before D (0.95 < 1.5), so D goes.
    d = [4.0, 0.0, 14.0, 10.0]
    video = [_frame([BOX], [0.5]), _frame([d, BOX], [0.95, 0.5]), _frame([BOX], [0.5])]
    out = seq_nms(video)
    np.testing.assert_array_equal(out[1][0], [BOX])
    assert [float(f[1][0]) for f in out] == pytest.approx([0.5, 0.5, 0.5])
    # a D worth more than the whole sequence is picked first and suppresses B instead
    video[1] = _frame([d, BOX], [1.6, 0.5])
    out = seq_nms(video)
    np.testing.assert_array_equal(out[1][0], [d])
    assert [f[1].tolist() for f in out] == [[0.5], [1.6], [0.5]]


def test_classes_never_link_or_suppress():
    video = [
        _frame([BOX, BOX], [0.9, 0.2], [0, 1]),
        _frame([BOX], [0.1], [1]),
        _frame([BOX], [0.3], [2]),
    ]
    out = seq_nms(video)
    assert out[0][1] == pytest.approx([0.9, (0.2 + 0.1) / 2])  # class 0 alone; class 1 linked
    np.testing.assert_array_equal(out[0][2], [0, 1])
    assert out[1][1] == pytest.approx([0.15])
    assert out[2][1] == pytest.approx([0.3])


def test_unlinked_box_keeps_its_score():
    video = [
        _frame([BOX], [0.9]),
        _frame([[50, 50, 60, 60]], [0.2]),  # overlaps neither neighbour
        _frame([[5, 0, 15, 10]], [0.4]),  # IoU 1/3 with BOX two frames back: irrelevant
    ]
    out = seq_nms(video)
    assert [f[1].tolist() for f in out] == [[0.9], [0.2], [0.4]]
    # IoU just under the link threshold: no link either
    video = [_frame([BOX], [0.9]), _frame([[4, 0, 14, 10]], [0.1])]  # IoU 0.43
    assert [f[1].tolist() for f in seq_nms(video)] == [[0.9], [0.1]]
    assert [f[1].tolist() for f in seq_nms(video, link_iou_thr=0.4)] == [[0.5], [0.5]]


def test_empty_video_and_empty_frames():
    assert seq_nms([]) == []
    out = seq_nms([_empty(), _empty()])
    assert len(out) == 2
    for boxes, scores, labels in out:
        assert boxes.shape == (0, 4) and scores.shape == (0,) and labels.shape == (0,)
        assert boxes.dtype == np.float64 and scores.dtype == np.float64
        assert labels.dtype == np.int64
    # an empty frame breaks a track; (0,)-shaped empty boxes and plain lists are accepted
    video = [_frame([BOX], [0.9]), (np.zeros(0), [], []), _frame([BOX], [0.1])]
    out = seq_nms(video)
    assert [f[1].tolist() for f in out] == [[0.9], [], [0.1]]
    assert out[1][0].shape == (0, 4)


@pytest.mark.parametrize(
    'kwargs, match',
    [
        (dict(rescore='mean'), 'rescore'),
        (dict(link_iou_thr=0), 'link_iou_thr'),
        (dict(link_iou_thr=1.5), 'link_iou_thr'),
        (dict(suppress_iou_thr=-0.1), 'suppress_iou_thr'),
        (dict(suppress_iou_thr='0.3'), 'suppress_iou_thr'),
    ],
)
def test_bad_arguments_raise(kwargs, match):
    with pytest.raises(ValueError, match=match):
        seq_nms([_frame([BOX], [0.5])], **kwargs)


@pytest.mark.parametrize(
    'frame, match',
    [
        ((np.zeros((2, 4)), np.zeros(3), np.zeros(2, np.int64)), '2 boxes, 3 scores'),
        ((np.zeros((2, 4)), np.zeros(2), np.zeros(1, np.int64)), '2 boxes, 2 scores and 1'),
        ((np.zeros((2, 3)), np.zeros(2), np.zeros(2, np.int64)), r'shape \(N, 4\)'),
        ((np.zeros((2, 4)), np.zeros((2, 1)), np.zeros(2, np.int64)), '1-D'),
        ((np.zeros((1, 4)), [np.nan], [0]), 'finite'),
        ((np.zeros((1, 4)), [0.5], [0.5]), 'integers'),
        ((np.zeros((1, 4)), [0.5]), 'tuple'),
    ],
)
def test_bad_frames_raise(frame, match):
    with pytest.raises(ValueError, match=match):
        seq_nms([_frame([BOX], [0.5]), frame])


def test_frames_must_be_a_sequence():
    with pytest.raises(ValueError, match='sequence'):
        seq_nms(np.zeros((2, 3)))


def _random_video(rng, num_frames, max_boxes, num_classes):
    """Boxes drawn around a few anchors, so that links, duplicates and gaps all occur."""
    anchors = rng.uniform(0, 40, (4, 2))
    video = []
    for _ in range(num_frames):
        n = int(rng.integers(0, max_boxes + 1))
        xy = anchors[rng.integers(0, 4, n)] + rng.normal(0, 3, (n, 2))
        boxes = np.concatenate([xy, xy + 20], 1)
        video.append((boxes, rng.uniform(0.01, 1, n), rng.integers(0, num_classes, n)))
    return video


def _iou(a, b):
    w = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    h = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - w * h
    return w * h / union if union > 0 else 0.0


def _paths(video, alive, link_thr, t, i):
    """Every path of linked alive boxes starting at box ``i`` of frame ``t``."""
    yield [(t, i)]
    if t + 1 < len(video):
        for j in range(len(video[t + 1][1])):
            if (t + 1, j) in alive and _iou(video[t][0][i], video[t + 1][0][j]) >= link_thr:
                for rest in _paths(video, alive, link_thr, t + 1, j):
                    yield [(t, i)] + rest


def _brute_force(video, link_thr, sup_thr, rescore):
    """Reference: enumerate every linked path of the remaining boxes, pick the best sum."""
    new = [np.full(len(s), np.nan) for _, s, _ in video]
    for c in {int(x) for _, _, labels in video for x in labels}:
        alive = {(t, i) for t, (_, _, lab) in enumerate(video) for i in range(len(lab))}
        alive = {(t, i) for t, i in alive if video[t][2][i] == c}
        while alive:
            best = max(
                itertools.chain.from_iterable(
                    _paths(video, alive, link_thr, t, i) for t, i in sorted(alive)
                ),
                key=lambda p: sum(video[t][1][i] for t, i in p),
            )
            scores = [video[t][1][i] for t, i in best]
            value = np.mean(scores) if rescore == 'avg' else max(scores)
            for t, i in best:
                new[t][i] = value
                box = video[t][0][i]
                alive -= {
                    (t, j) for j, other in enumerate(video[t][0]) if _iou(box, other) >= sup_thr
                }
                alive.discard((t, i))
    return new


@pytest.mark.parametrize('seed', range(6))
def test_matches_brute_force_and_keeps_the_structure(seed):
    rng = np.random.default_rng(seed)
    video = _random_video(rng, num_frames=7, max_boxes=6, num_classes=2)
    link_thr, sup_thr = (0.5, 0.3) if seed % 2 else (0.3, 0.6)
    rescore = 'avg' if seed < 3 else 'max'
    out = seq_nms(video, link_thr, sup_thr, rescore)
    expected = _brute_force(video, link_thr, sup_thr, rescore)
    assert len(out) == len(video)
    # each of these videos has suppressed and rescored boxes, so the check has teeth
    assert sum(np.isnan(ref).sum() for ref in expected) > 0
    assert any(
        (~np.isclose(ref, s))[~np.isnan(ref)].any() for ref, (_, s, _) in zip(expected, video)
    )
    for (boxes, scores, labels), (in_boxes, _, in_labels), ref in zip(out, video, expected):
        keep = ~np.isnan(ref)
        assert boxes.dtype == np.float64 and scores.dtype == np.float64
        assert labels.dtype == np.int64
        assert boxes.shape == (keep.sum(), 4) and scores.shape == labels.shape == (keep.sum(),)
        np.testing.assert_array_equal(boxes, in_boxes[keep])  # a subset, in input order
        np.testing.assert_array_equal(labels, in_labels[keep])
        np.testing.assert_allclose(scores, ref[keep])

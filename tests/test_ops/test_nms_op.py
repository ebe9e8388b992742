"""mmpsla.ops.nms: the compiled CPU NMS against mmcv's (the reference) and, in float64, a
plain greedy loop over an IoU matrix; every option, ties, degenerate boxes, mmcv's
batched_nms calling it, bad inputs and the fallback rule."""

import pytest
import torch
from mmcv.ops import batched_nms
from mmcv.ops import nms as mmcv_nms

from mmpsla.ops import nms, psla_op


def _boxes(n, seed=0, dtype=torch.float32, clustered=False):
    """n random boxes (x1, y1, x2, y2) in a 200 x 150 frame and scores; ``clustered`` draws
    them around 5 centres so that many overlap (heavy suppression)."""
    g = torch.Generator().manual_seed(seed)
    if clustered:
        centres = torch.rand(5, 2, generator=g, dtype=dtype) * 120 + 30
        ctr = centres[torch.randint(5, (n,), generator=g)]
        ctr = ctr + torch.randn(n, 2, generator=g, dtype=dtype) * 3
        half = 10 + torch.rand(n, 2, generator=g, dtype=dtype) * 4
        boxes = torch.cat([ctr - half, ctr + half], 1)
    else:
        start = torch.rand(n, 2, generator=g, dtype=dtype) * torch.tensor([200.0, 150.0])
        size = 2 + torch.rand(n, 2, generator=g, dtype=dtype) * 60
        boxes = torch.cat([start, start + size], 1)
    return boxes, torch.rand(n, generator=g, dtype=dtype)


def _greedy_reference(boxes, scores, iou_threshold, offset=0):
    """Greedy NMS written plainly: an IoU matrix, boxes visited by descending score."""
    order = scores.sort(descending=True)[1]
    x1, y1, x2, y2 = boxes.unbind(1)
    area = (x2 - x1 + offset) * (y2 - y1 + offset)
    w = (torch.min(x2[:, None], x2) - torch.max(x1[:, None], x1) + offset).clamp(min=0)
    h = (torch.min(y2[:, None], y2) - torch.max(y1[:, None], y1) + offset).clamp(min=0)
    iou = w * h / (area[:, None] + area - w * h)
    alive = torch.ones(len(boxes), dtype=torch.bool)
    keep = []
    for i in order.tolist():
        if alive[i]:
            keep.append(i)
            alive &= ~(iou[i] > iou_threshold)
    return torch.tensor(keep, dtype=torch.long)


@pytest.mark.parametrize('clustered', [False, True])
@pytest.mark.parametrize('offset', [0, 1])
@pytest.mark.parametrize('iou_threshold', [0.3, 0.5, 0.7])
@pytest.mark.parametrize('n', [0, 1, 7, 300, 1000])
def test_matches_mmcv(require_ext, n, iou_threshold, offset, clustered):
    boxes, scores = _boxes(n, seed=n, clustered=clustered)
    dets, keep = nms(boxes, scores, iou_threshold, offset)
    ref_dets, ref_keep = mmcv_nms(boxes, scores, iou_threshold, offset)
    assert torch.equal(keep, ref_keep) and keep.dtype == torch.long
    assert torch.equal(dets, ref_dets) and dets.shape == (len(keep), 5)
    if clustered and n >= 300:
        assert len(keep) < n // 3  # the clustered case does suppress


@pytest.mark.parametrize('offset', [0, 1])
@pytest.mark.parametrize('clustered', [False, True])
def test_float64_matches_a_plain_greedy_loop(require_ext, offset, clustered):
    boxes, scores = _boxes(400, seed=3, dtype=torch.float64, clustered=clustered)
    dets, keep = nms(boxes, scores, 0.5, offset)
    assert torch.equal(keep, _greedy_reference(boxes, scores, 0.5, offset))
    assert dets.dtype == torch.float64
    torch.testing.assert_close(dets, torch.cat([boxes[keep], scores[keep, None]], 1))


def test_score_threshold_and_max_num_as_mmcv(require_ext):
    boxes, scores = _boxes(500, seed=1, clustered=True)
    for score_threshold, max_num in [(0.3, -1), (0, 10), (0.5, 4), (0.999999, -1)]:
        ours = nms(boxes, scores, 0.6, 0, score_threshold, max_num)
        ref = mmcv_nms(boxes, scores, 0.6, 0, score_threshold, max_num)
        assert torch.equal(ours[1], ref[1]) and torch.equal(ours[0], ref[0])


def test_ties_and_degenerate_boxes_as_mmcv(require_ext):
    boxes, _ = _boxes(64, seed=2, clustered=True)
    scores = torch.tensor([0.5, 0.25, 0.75, 0.5] * 16)  # many equal scores
    boxes[:6] = torch.tensor([300.0, 300.0, 320.0, 320.0])  # identical boxes (IoU 1), apart
    boxes[6, 2:] = boxes[6, :2]  # a point: zero area, NaN overlap with another point
    boxes[7] = boxes[6]
    boxes[8, 2] = boxes[8, 0]  # zero width
    ours, ref = nms(boxes, scores, 0.5), mmcv_nms(boxes, scores, 0.5)
    assert torch.equal(ours[1], ref[1]) and torch.equal(ours[0], ref[0])
    copies = ours[1][(ours[1][:, None] == torch.arange(6)).any(1)]
    assert copies.tolist() == [2]  # one of the six copies: the highest-scoring


def test_hand_made_overlaps():
    # IoU(a, b) = 50 / 150 = 1/3; c is far away; b scores highest
    boxes = torch.tensor([[0.0, 0, 10, 10], [5.0, 0, 15, 10], [50.0, 50, 60, 60]])
    scores = torch.tensor([0.8, 0.9, 0.1])
    if not psla_op.ext_available():
        pytest.skip('mmpsla._ext is not built')
    assert nms(boxes, scores, 0.3)[1].tolist() == [1, 2]
    assert nms(boxes, scores, 0.34)[1].tolist() == [1, 0, 2]


@pytest.mark.parametrize('class_agnostic', [False, True])
def test_batched_nms_calls_it_and_keeps_mmcvs_boxes(require_ext, class_agnostic):
    boxes, scores = _boxes(300, seed=5, clustered=True)
    labels = torch.randint(4, (300,), generator=torch.Generator().manual_seed(0))
    ours = batched_nms(boxes, scores, labels, dict(type=nms, iou_threshold=0.5), class_agnostic)
    ref = batched_nms(boxes, scores, labels, dict(type='nms', iou_threshold=0.5), class_agnostic)
    assert torch.equal(ours[1], ref[1]) and torch.equal(ours[0], ref[0])


def test_bad_inputs_are_named(require_ext):
    boxes, scores = _boxes(5)
    with pytest.raises(ValueError, match=r'boxes must be a \(N, 4\)'):
        nms(boxes[:, :3], scores, 0.5)
    with pytest.raises(ValueError, match=r'scores must be a \(5,\) tensor'):
        nms(boxes, scores[:4], 0.5)
    with pytest.raises(ValueError, match='offset must be 0 or 1'):
        nms(boxes, scores, 0.5, offset=2)
    with pytest.raises(ValueError, match='iou_threshold must lie in'):
        nms(boxes, scores, 1.5)
    with pytest.raises(ValueError, match='float32 or float64'):
        nms(boxes.half(), scores.half(), 0.5)


def test_missing_extension_raises_unless_mmcv_is_allowed(monkeypatch):
    monkeypatch.setattr(psla_op, '_ext', None)
    monkeypatch.setattr(psla_op, '_warned', set())
    monkeypatch.delenv(psla_op.ALLOW_REFERENCE_ENV, raising=False)
    boxes, scores = _boxes(50, clustered=True)
    with pytest.raises(RuntimeError, match='MMPSLA_ALLOW_REFERENCE_OP=1'):
        nms(boxes, scores, 0.5)
    monkeypatch.setenv(psla_op.ALLOW_REFERENCE_ENV, '1')
    with pytest.warns(RuntimeWarning):
        dets, keep = nms(boxes, scores, 0.5)
    assert torch.equal(keep, mmcv_nms(boxes, scores, 0.5)[1])

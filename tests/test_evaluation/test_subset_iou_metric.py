"""SubsetIoUMetric: IoUMetric's numbers overall and on flagged subsets."""

import pytest
import torch

from mmpsla.evaluation.metrics import SubsetIoUMetric


def sample(pred, gt, degraded):
    return dict(
        pred_sem_seg=dict(data=torch.tensor(pred)[None]),
        gt_sem_seg=dict(data=torch.tensor(gt)[None]),
        is_degraded=degraded,
    )


def test_subset_iou():
    metric = SubsetIoUMetric(iou_metrics=['mIoU'], subsets=dict(degraded='is_degraded'))
    metric.dataset_meta = dict(classes=('a', 'b'))
    clean = sample([[0, 1], [1, 1]], [[0, 1], [1, 1]], False)  # perfect
    bad = sample([[1, 1], [0, 0]], [[0, 1], [1, 0]], True)  # IoU a 1/3, b 1/3
    metric.process({}, [clean, bad])
    out = metric.compute_metrics(metric.results)
    assert out['degraded_mIoU'] == pytest.approx(100 / 3, abs=0.01)
    assert out['not_degraded_mIoU'] == pytest.approx(100.0)
    # pooled over both: a: inter 1+1=2, union 1+3=4; b: inter 3+1=4, union 3+3=6
    assert out['mIoU'] == pytest.approx(100 * (2 / 4 + 4 / 6) / 2, abs=0.01)
    metric.results.clear()
    with pytest.raises(KeyError, match='is_degraded'):
        metric.process(
            {}, [dict(pred_sem_seg=clean['pred_sem_seg'], gt_sem_seg=clean['gt_sem_seg'])]
        )

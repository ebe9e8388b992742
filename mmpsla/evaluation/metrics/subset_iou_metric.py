"""mmseg's ``IoUMetric`` with the same numbers on subsets of the samples."""

from typing import Dict, Optional, Sequence

from mmseg.evaluation import IoUMetric
from mmseg.registry import METRICS


@METRICS.register_module()
class SubsetIoUMetric(IoUMetric):
    """``IoUMetric`` over all samples, plus over the samples a boolean metainfo flag selects.

    For each ``name: key`` of ``subsets`` the metrics (``mIoU``, ``aAcc``, ... as chosen by
    ``iou_metrics``) are also computed over the samples whose metainfo ``key`` is True
    (reported as ``{name}_mIoU``) and over those where it is False
    (``not_{name}_mIoU``). The intersections and unions are pooled over a subset exactly
    as ``IoUMetric`` pools them over the whole set. Example: the toy set's
    ``subsets=dict(degraded='is_degraded')`` gives ``degraded_mIoU`` on degraded annotated
    frames.

    Args:
        subsets (dict[str, str], optional): Output name -> metainfo flag.
        **kwargs: ``IoUMetric`` arguments.
    """

    def __init__(self, subsets: Optional[Dict[str, str]] = None, **kwargs) -> None:
        super().__init__(**kwargs)
        self.subsets = dict(subsets or {})

    def process(self, data_batch: dict, data_samples: Sequence[dict]) -> None:
        """Append each sample's (intersect, union, pred, label) areas and its flags."""
        start = len(self.results)
        super().process(data_batch, data_samples)
        if self.format_only:
            return
        for i, sample in enumerate(data_samples):
            flags = {}
            for key in self.subsets.values():
                if key not in sample:
                    raise KeyError(
                        f'SubsetIoUMetric: sample metainfo lacks {key!r} (add it to '
                        'PackSegClipInputs meta_keys)'
                    )
                flags[key] = bool(sample[key])
            self.results[start + i] = (*self.results[start + i], flags)

    def compute_metrics(self, results: list) -> Dict[str, float]:
        """``IoUMetric``'s metrics overall and per subset (see the class docstring)."""
        areas = [r[:4] for r in results]
        metrics = super().compute_metrics(areas)
        for name, key in self.subsets.items():
            for prefix, wanted in ((name, True), (f'not_{name}', False)):
                chosen = [r[:4] for r in results if r[4][key] is wanted]
                if not chosen:
                    continue
                for metric, value in super().compute_metrics(chosen).items():
                    metrics[f'{prefix}_{metric}'] = value
        return metrics

"""``--out`` for video test sets: dump every frame's prediction, not one per video."""

from mmdet.registry import METRICS
from mmengine.evaluator import DumpResults

from .frame_results import EvaluateEveryFrame


@METRICS.register_module()
class DumpFrameResults(EvaluateEveryFrame, DumpResults):
    """mmengine's ``DumpResults`` for video datasets (``tools/test.py --out``).

    ``DumpResults`` keeps ``len(dataset)`` results, which for a video dataset is the number
    of *videos*: the pickle held one prediction per video. This keeps every frame's, from
    every process, written once by rank 0.

    Args:
        out_file_path (str): The ``.pkl`` file to write.
    """

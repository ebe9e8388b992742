"""DumpFrameResults (``tools/test.py --out``) keeps every frame's prediction."""

import pickle

import torch
from mmengine.evaluator import DumpResults
from mmengine.structures import InstanceData

from mmpsla.evaluation.metrics import DumpFrameResults


def _frames(n):
    samples = []
    for i in range(n):
        pred = InstanceData(bboxes=torch.tensor([[0.0, 0.0, i + 1.0, i + 1.0]]))
        samples.append(dict(img_id=i, pred_instances=pred))
    return samples


def test_dump_keeps_every_frame_not_one_per_video(tmp_path):
    # a video dataset has len() == number of videos (here 2) but yields 5 frames
    out = tmp_path / 'frames.pkl'
    metric = DumpFrameResults(out_file_path=str(out))
    metric.process({}, _frames(5))
    metric.evaluate(size=2)
    with open(out, 'rb') as f:
        dumped = pickle.load(f)
    assert [d['img_id'] for d in dumped] == [0, 1, 2, 3, 4]
    assert dumped[4]['pred_instances']['bboxes'].tolist() == [[0.0, 0.0, 5.0, 5.0]]

    # mmengine's DumpResults truncates to size (the bug this class fixes)
    plain_out = tmp_path / 'plain.pkl'
    plain = DumpResults(out_file_path=str(plain_out))
    plain.process({}, _frames(5))
    plain.evaluate(size=2)
    with open(plain_out, 'rb') as f:
        assert len(pickle.load(f)) == 2

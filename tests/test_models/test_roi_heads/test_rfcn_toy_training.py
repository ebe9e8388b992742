"""A short Runner training of the toy R-FCN detector: its class loss falls and it detects
objects (the published mean vote left every RoI at the background prior; README).

It trains the summed-vote head with per-bin biases and no hidden layer
(``psla_c_rfcn_binbias_toy.py``), the variant this check was measured on (13.4 % mAP here).
The toy default adds a hidden 1x1 conv + ReLU, which trains slower from scratch (4.8 % here
after 120 iterations, still far from the prior's 0.0) and better from the pretrained recipe
(README); its loss and backward are tested in ``test_rfcn_roi_head.py``."""

import glob
import json
import os.path as osp

import pytest


@pytest.mark.slow
def test_rfcn_toy_training_learns_classes(tiny_toy_root, write_toy_config, tmp_path):
    from mmengine.config import Config
    from mmengine.runner import Runner

    iters = 120
    # test on the training videos: the check is that the head learns, not that it generalises
    extra = (
        "train_json = 'annotations/train.json'\n"
        'test_dataloader = dict(dataset=dict(data_root=data_root, ann_file=train_json))\n'
        'test_evaluator = dict(ann_file=data_root + train_json)\n'
    )
    path = write_toy_config(tmp_path, 'toy/psla_c_rfcn_binbias_toy.py', tiny_toy_root, iters, extra)
    cfg = Config.fromfile(str(path))
    cfg.work_dir = str(tmp_path / 'work')
    cfg.log_level = 'WARNING'
    cfg.train_cfg.val_begin = 10**9
    runner = Runner.from_cfg(cfg)
    runner.train()
    (scalars,) = glob.glob(osp.join(cfg.work_dir, '*', 'vis_data', 'scalars.json'))
    with open(scalars) as f:
        rows = [json.loads(line) for line in f if '"loss_cls"' in line]
    cls = [r['loss_cls'] for r in rows]
    assert len(cls) == iters
    first, last = sum(cls[:10]) / 10, sum(cls[-20:]) / 20
    assert last < 0.8 * first, (first, last)
    metrics = runner.test()
    # a head at the class prior calls every RoI background: mAP 0
    # Measured: 13.4 % with the summed vote; the published mean vote gives 0.0 here (its
    # class loss falls too, 1.54 -> 0.44, but only to the background prior).
    assert metrics['vid/mAP'] > 0.05, metrics

"""Test (evaluate) a trained video detector with the mmengine Runner.

Examples::

    python tools/test.py configs/toy/psla_c_toy.py work_dirs/psla_c_toy/iter_600.pth
    tools/dist_test.sh configs/vid/psla_r101_dcn.py psla_r101_dcn.pth 8 --out results.pkl
"""

import argparse
import os.path as osp

from mmengine.config import Config
from mmengine.runner import Runner

import mmpsla  # noqa: F401  (registers modules; checkpoint allow-list)
from mmpsla.evaluation.metrics import DumpFrameResults
from mmpsla.utils import add_run_arguments, load_run_config, setup_cpu_distributed


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Test (and evaluate) a video detector')
    add_run_arguments(parser, 'test_dataloader.dataset.pipeline.0.key_frame_interval=20')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--out', help='dump the predictions to this pickle file (.pkl)')
    return parser.parse_args(argv)


def build_config(args: argparse.Namespace) -> Config:
    if not osp.isfile(args.checkpoint):
        what = 'is a folder, not a file' if osp.isdir(args.checkpoint) else 'not found'
        raise FileNotFoundError(
            f'checkpoint file {what}: {args.checkpoint} (give the .pth file a training run '
            "saved, e.g. work_dirs/psla_c_toy/iter_1500.pth; the work dir's last_checkpoint "
            'names the newest)'
        )
    if args.out is not None:
        if not args.out.endswith(('.pkl', '.pickle')):
            raise ValueError(f'--out must be a .pkl file, got {args.out} (e.g. --out results.pkl)')
        if osp.isdir(args.out):
            raise IsADirectoryError(f'--out {args.out} is a folder; give a file name ending .pkl')
    cfg = load_run_config(args)
    cfg.load_from = args.checkpoint
    return cfg


def main(argv=None) -> dict:
    args = parse_args(argv)
    cfg = build_config(args)
    setup_cpu_distributed(cfg, args.launcher)
    runner = Runner.from_cfg(cfg)
    if args.out is not None:
        runner.test_evaluator.metrics.append(DumpFrameResults(out_file_path=args.out))
    return runner.test()


if __name__ == '__main__':
    main()

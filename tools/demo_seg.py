"""`make demo-seg`: PSLA (c) and the frame baseline on the toy video-segmentation set.

    python tools/demo_seg.py            # full demo (at most ~15 min on 2 CPU cores)
    python tools/demo_seg.py --quick    # a tiny smoke run (a few iterations)

Generates the toy set (``tools/make_toy_seg.py``) when missing, trains both methods at the
same time with ``tools/train.py`` (two processes, ``OMP_NUM_THREADS=1`` each), tests both
with the mmengine Runner (mIoU overall and on the degraded annotated frames), times both
side by side on 4 whole validation snippets with one thread (streaming, key frame every l
frames), prints one table and writes ``predictions.png`` (frame, ground truth, baseline,
PSLA for degraded annotated frames) under ``--work-dir``.
"""

import argparse
import logging
import os
import os.path as osp
import subprocess
import sys
import time

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

METHODS = (
    ('PSLA (c)', 'configs/seg/toy/psla_c_toy_seg.py', 'psla_c'),
    ('Frame baseline', 'configs/seg/toy/frame_baseline_toy_seg.py', 'frame_baseline'),
)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--data-root', default='data/toy_seg', help='toy set folder')
    parser.add_argument('--work-dir', default='work_dirs/demo_seg', help='output folder')
    parser.add_argument('--iters', type=int, default=None, help='override train iterations')
    parser.add_argument('--seed', type=int, default=0, help='training seed')
    parser.add_argument('--quick', action='store_true', help='tiny smoke run (tests, CI)')
    parser.add_argument('--skip-train', action='store_true', help='reuse the checkpoints')
    return parser.parse_args(argv)


def ensure_data(data_root: str, quick: bool) -> None:
    """Generate the toy set (a tiny one with ``quick``) unless it is already there."""
    from mmpsla.datasets.toy_seg import make_toy_seg

    if quick:
        make_toy_seg(data_root, seed=0, num_train_snippets=4, num_val_snippets=2)
    else:
        make_toy_seg(data_root, seed=0)


def cfg_options(data_root: str, iters, seed: int):
    root = data_root.rstrip('/') + '/'
    opts = [
        f'train_dataloader.dataset.data_root={root}',
        f'val_dataloader.dataset.data_root={root}',
        f'test_dataloader.dataset.data_root={root}',
        f'randomness.seed={seed}',
        'train_cfg.val_begin=1000000000',
        'log_level=WARNING',
    ]
    if iters is not None:
        opts += [
            f'train_cfg.max_iters={iters}',
            f'default_hooks.checkpoint.interval={iters}',
            f'default_hooks.logger.interval={max(1, min(20, iters))}',
        ]
    return opts


def train_both(args, data_root, iters):
    """Both trainings at once, one thread each; returns {tag: (checkpoint, seconds)}."""
    from mmengine.config import Config

    env = dict(os.environ, OMP_NUM_THREADS='1', MKL_NUM_THREADS='1', PYTHONPATH=ROOT)
    procs = {}
    for _, cfg_path, tag in METHODS:
        work_dir = osp.join(args.work_dir, tag)
        cmd = [sys.executable, osp.join(ROOT, 'tools', 'train.py'), osp.join(ROOT, cfg_path)]
        cmd += ['--work-dir', work_dir, '--cfg-options'] + cfg_options(data_root, iters, args.seed)
        os.makedirs(work_dir, exist_ok=True)
        log = open(osp.join(work_dir, 'train_stdout.log'), 'w')
        procs[tag] = (subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT), log)
    start = time.perf_counter()
    done = {}
    for _, cfg_path, tag in METHODS:
        proc, log = procs[tag]
        if proc.wait() != 0:
            raise RuntimeError(f'training {tag} failed; see {log.name}')
        log.close()
        max_iters = iters or Config.fromfile(osp.join(ROOT, cfg_path)).train_cfg.max_iters
        done[tag] = (
            osp.join(args.work_dir, tag, f'iter_{max_iters}.pth'),
            time.perf_counter() - start,
        )
    return done


def test_method(cfg_path, checkpoint, data_root, work_dir, seed):
    """Runner test of one checkpoint -> (metrics, model, dataloader)."""
    from mmengine.config import Config, DictAction
    from mmengine.runner import Runner

    cfg = Config.fromfile(osp.join(ROOT, cfg_path))
    action = DictAction(option_strings=[], dest='x')
    ns = argparse.Namespace()
    action(None, ns, cfg_options(data_root, None, seed))
    cfg.merge_from_dict(ns.x)
    cfg.work_dir = work_dir
    cfg.load_from = checkpoint
    runner = Runner.from_cfg(cfg)
    metrics = runner.test()
    return metrics, runner.model.eval(), runner.test_dataloader


def colorize(label, palette):
    import numpy as np

    lut = np.zeros((256, 3), np.uint8)
    lut[: len(palette)] = np.array(palette, np.uint8)[:, ::-1]  # RGB -> BGR
    return lut[label]


def write_predictions(models, dataloader, palette, out_path, num=4):
    """Rows: degraded annotated frames; columns: frame, ground truth, each model."""
    import copy

    import cv2
    import numpy as np
    import torch

    rows = []
    with torch.no_grad():
        for data in dataloader:
            sample = data['data_samples'][0]
            if not sample.is_degraded:
                continue
            frame = cv2.imread(sample.img_path)
            gt = sample.gt_sem_seg.data[0].numpy().astype(np.uint8)
            cells = [frame, colorize(gt, palette)]
            for model in models.values():
                out = model.test_step(copy.deepcopy(data))[0]
                cells.append(colorize(out.pred_sem_seg.data[0].numpy().astype(np.uint8), palette))
            gap = np.full((frame.shape[0], 3, 3), 255, np.uint8)  # white column between panels
            rows.append(np.concatenate([c for cell in cells for c in (cell, gap)], axis=1))
            if len(rows) == num:
                break
    if not rows:
        return None
    header = np.full((18, rows[0].shape[1], 3), 255, np.uint8)
    width = frame.shape[1] + 3
    for i, name in enumerate(['degraded frame', 'ground truth'] + list(models)):
        cv2.putText(header, name, (i * width + 4, 13), cv2.FONT_HERSHEY_SIMPLEX, 0.4, 0, 1)
    cv2.imwrite(out_path, np.concatenate([header] + rows, axis=0))
    return out_path


def format_table(rows):
    lines = [
        '| method | mIoU | mIoU degraded annotated frames | mIoU clean annotated frames | '
        'fps | fps key steps | fps non-key steps | params | train iters (s) |',
        '|' + '---|' * 9,
    ]
    for r in rows:
        nonkey = f'{r["nonkey_fps"]:.1f}' if r['nonkey_fps'] > 0 else 'n/a'
        lines.append(
            f'| {r["method"]} | {r["mIoU"]:.1f} | {r["degraded_mIoU"]:.1f} | '
            f'{r["not_degraded_mIoU"]:.1f} | {r["fps"]:.1f} | {r["key_fps"]:.1f} | {nonkey} | '
            f'{r["params"] / 1e6:.2f}M | {r["iters"]} ({r["train_s"]:.0f}) |'
        )
    return '\n'.join(lines)


def main(argv=None):
    args = parse_args(argv)
    start = time.perf_counter()
    logging.getLogger('mmengine').setLevel(logging.WARNING)
    import torch

    import mmpsla  # noqa: F401
    from mmpsla.apis import count_parameters
    from mmpsla.apis.seg_benchmark import load_snippet_clips, measure_seg_fps
    from mmpsla.utils.atomic_io import atomic_dump_json, atomic_write_text

    data_root = args.data_root
    if args.quick and data_root == 'data/toy_seg':
        data_root = osp.join(args.work_dir, 'toy_seg_quick')
    print(f'==> toy segmentation set in {data_root} (generated when missing)', flush=True)
    ensure_data(data_root, args.quick)
    iters = args.iters if not args.quick else (args.iters or 3)
    if args.skip_train:
        from mmengine.config import Config

        trained = {}
        for _, cfg_path, tag in METHODS:
            n = iters or Config.fromfile(osp.join(ROOT, cfg_path)).train_cfg.max_iters
            trained[tag] = (osp.join(args.work_dir, tag, f'iter_{n}.pth'), float('nan'))
    else:
        print('==> training PSLA (c) and the frame baseline (2 processes, 1 thread each)')
        trained = train_both(args, data_root, iters)
    rows, models, loader = [], {}, None
    torch.set_num_threads(1)
    for name, cfg_path, tag in METHODS:
        ckpt, train_s = trained[tag]
        print(f'==> testing {name}', flush=True)
        metrics, model, dataloader = test_method(
            cfg_path, ckpt, data_root, osp.join(args.work_dir, tag), args.seed
        )
        loader = loader or dataloader
        models[name] = model
        rows.append(
            dict(
                method=name,
                mIoU=float(metrics['mIoU']),
                degraded_mIoU=float(metrics.get('degraded_mIoU', float('nan'))),
                not_degraded_mIoU=float(metrics.get('not_degraded_mIoU', float('nan'))),
                params=count_parameters(model),
                train_s=train_s,
                iters=int(osp.basename(ckpt)[5:-4]),
            )
        )
    print('==> timing both models side by side (1 thread, whole validation snippets)', flush=True)
    dataset = loader.dataset
    data_list = [dataset.get_data_info(i) for i in range(len(dataset))]
    interval = dataset.pipeline.transforms[0].key_frame_interval
    timings = measure_seg_fps(
        models, load_snippet_clips(data_list, max_snippets=2 if args.quick else 4), interval
    )
    for row in rows:
        row.update({k: timings[row['method']][k] for k in ('fps', 'key_fps', 'nonkey_fps')})
    png = write_predictions(
        models, loader, dataset.metainfo['palette'], osp.join(args.work_dir, 'predictions.png')
    )
    psla, base = rows
    ratio = psla['fps'] / base['fps'] if base['fps'] > 0 else float('nan')
    total = time.perf_counter() - start
    text = '\n'.join(
        [
            '',
            f'Toy segmentation validation set ({data_root}), CPU, 1 thread, l = {interval}:',
            format_table(rows),
            f'PSLA (c) / frame baseline speed: {ratio:.2f}x; mIoU on degraded annotated '
            f'frames: {psla["degraded_mIoU"] - base["degraded_mIoU"]:+.1f} points.',
            f'Predictions next to the ground truth: {png}',
            f'Demo wall time: {total:.0f} s',
        ]
    )
    print(text, flush=True)
    os.makedirs(args.work_dir, exist_ok=True)
    atomic_write_text(osp.join(args.work_dir, 'results.md'), text + '\n')
    atomic_dump_json(
        {'rows': rows, 'speed_ratio': ratio, 'wall_s': total},
        osp.join(args.work_dir, 'results.json'),
        indent=2,
    )
    return rows


if __name__ == '__main__':
    main()

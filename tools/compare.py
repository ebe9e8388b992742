"""Compare the frame baseline, DFF, FGFA, SELSA, TRoI Align and PSLA on one validation set.

Each method is trained with the mmengine Runner (or loaded from ``--checkpoints``), tested
on the same validation set with the same metric (``VIDMetric``) and timed on the same
machine, batch 1, whole videos in order (``mmpsla.apis.measure_fps``; data loading not
timed, the first ``--warmup`` frames not counted). One table is printed and written as
Markdown and JSON, with an mAP-vs-fps plot (PNG, the PSLA paper's Fig. 6 style)::

    python tools/compare.py                                   # all six, toy set
    python tools/compare.py --methods dff fgfa --iters 300
    python tools/compare.py --checkpoints psla_c=work_dirs/compare/psla_c/iter_600.pth
    python tools/compare.py --configs dff=configs/vid/dff_r50_dc5.py --data-root ''  # any set
    python tools/compare.py --quick                           # tiny smoke run (tests, CI)

Columns: mAP@50 overall, on slow / medium / fast objects (FGFA's motion-IoU breakdown) and
on degraded frames (toy set), fps, parameters (FlowNet included for DFF / FGFA). All six
share the toy N_f (tiny ResNet + feature conv), RPN and box coder / losses, and the data
and schedule; they differ only in how other frames enter the current frame's detections.
"""

import argparse
import json
import logging
import os
import os.path as osp
import sys
import time

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

#: name -> (label in the table, default config), in the table's order
METHODS = {
    'frame_baseline': ('Frame baseline', 'configs/toy/frame_baseline_toy.py'),
    'dff': ('DFF', 'configs/toy/dff_toy.py'),
    'fgfa': ('FGFA', 'configs/toy/fgfa_toy.py'),
    'selsa': ('SELSA', 'configs/toy/selsa_toy.py'),
    'troialign': ('TRoI Align', 'configs/toy/selsa_troialign_toy.py'),
    'psla_c': ('PSLA (c)', 'configs/toy/psla_c_toy.py'),
}
METRIC_KEYS = (
    ('mAP', 'vid/mAP'),
    ('mAP_slow', 'vid/mAP_slow'),
    ('mAP_medium', 'vid/mAP_medium'),
    ('mAP_fast', 'vid/mAP_fast'),
    ('mAP_degraded', 'vid/mAP_degraded'),
)


def _pairs(values, option):
    """``['a=b', ...]`` -> ``{'a': 'b'}``, checking the method names."""
    out = {}
    for item in values or []:
        name, sep, value = item.partition('=')
        if not sep or name not in METHODS or not value:
            raise SystemExit(
                f'{option}: expected METHOD=VALUE with METHOD in {sorted(METHODS)}, got {item!r}'
            )
        out[name] = value
    return out


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        '--methods',
        nargs='+',
        default=list(METHODS),
        choices=list(METHODS),
        help='methods to compare (default: all)',
    )
    parser.add_argument(
        '--checkpoints',
        nargs='+',
        default=None,
        metavar='METHOD=PATH',
        help='test these checkpoints instead of training the methods',
    )
    parser.add_argument(
        '--configs',
        nargs='+',
        default=None,
        metavar='METHOD=CONFIG',
        help='use other configs (default: the toy configs)',
    )
    parser.add_argument(
        '--data-root',
        default='data/toy_vid',
        help="toy dataset folder (generated when missing); '' keeps the configs' own data settings",
    )
    parser.add_argument('--work-dir', default='work_dirs/compare', help='output folder')
    parser.add_argument('--iters', type=int, default=None, help='override train iterations')
    parser.add_argument('--warmup', type=int, default=10, help='untimed leading test frames')
    parser.add_argument(
        '--quick',
        action='store_true',
        help='tiny smoke run: small toy set, 4 iterations (tests, CI)',
    )
    args = parser.parse_args(argv)
    args.checkpoints = _pairs(args.checkpoints, '--checkpoints')
    args.configs = _pairs(args.configs, '--configs')
    for name, path in args.checkpoints.items():
        if not osp.isfile(path):
            raise SystemExit(f'--checkpoints: {name}: no such file {path}')
    return args


def build_method_cfg(name: str, args, data_root: str):
    """The method's config, pointed at ``data_root`` and its own work dir."""
    from mmpsla.apis.experiment import build_cfg

    cfg_path = args.configs.get(name, METHODS[name][1])
    work_dir = osp.join(args.work_dir, name)
    iters = args.iters if not args.quick else (args.iters or 4)
    if data_root:
        cfg = build_cfg(cfg_path, data_root, work_dir, iters)
    else:  # keep the config's dataset (e.g. ImageNet VID)
        from mmengine.config import Config

        cfg = Config.fromfile(cfg_path if osp.isabs(cfg_path) else osp.join(ROOT, cfg_path))
        cfg.work_dir = work_dir
        if iters is not None:
            cfg.train_cfg.max_iters = iters
    if name in args.checkpoints:
        cfg.load_from = args.checkpoints[name]
    # no validation while training: the test set is evaluated once, afterwards
    cfg.val_dataloader = cfg.val_cfg = cfg.val_evaluator = None
    return cfg, cfg_path


def _checkpoint_iter(path: str) -> int:
    """Training iterations recorded in an mmengine checkpoint (0 if it has none)."""
    import torch

    meta = torch.load(path, map_location='cpu').get('meta', {})  # mmpsla allow-lists it
    return int(meta.get('iter', 0) or 0)


def run_method(name: str, args, data_root: str) -> dict:
    """Train (or load), test and time one method; return its table row."""
    from mmengine.runner import Runner

    from mmpsla.apis import count_parameters, measure_fps

    cfg, cfg_path = build_method_cfg(name, args, data_root)
    runner = Runner.from_cfg(cfg)
    train_s = 0.0
    if name in args.checkpoints:
        print(f'==> {METHODS[name][0]}: testing {args.checkpoints[name]} ({cfg_path})', flush=True)
    else:
        print(
            f'==> {METHODS[name][0]}: training {cfg.train_cfg.max_iters} iterations ({cfg_path})',
            flush=True,
        )
        start = time.perf_counter()
        runner.train()
        train_s = time.perf_counter() - start
    metrics = runner.test()
    model = runner.model
    model.eval()
    timing = measure_fps(model, runner.test_dataloader, warmup=args.warmup)
    row = dict(method=METHODS[name][0], key=name, config=cfg_path)
    for column, key in METRIC_KEYS:
        row[column] = float(metrics.get(key, float('nan')))
    row.update(
        fps=timing['fps'],
        frames_timed=timing['frames'],
        params=count_parameters(model),
        train_iters=_checkpoint_iter(args.checkpoints[name])
        if name in args.checkpoints
        else cfg.train_cfg.max_iters,
        train_s=train_s,
        checkpoint=args.checkpoints.get(name),
    )
    print(f'    mAP@50 {100 * row["mAP"]:.1f}, {row["fps"]:.1f} fps', flush=True)
    return row


def _pct(value: float) -> str:
    return 'n/a' if value != value else f'{100 * value:.1f}'  # nan -> n/a


def format_table(rows) -> str:
    """Markdown table of the compared methods."""
    lines = [
        '| method | mAP@50 | slow | medium | fast | degraded | fps | params | trained |',
        '|---|---|---|---|---|---|---|---|---|',
    ]
    for r in rows:
        trained = (
            f'{r["train_iters"]} it, checkpoint'
            if r['checkpoint']
            else f'{r["train_iters"]} it, {r["train_s"]:.0f} s'
        )
        lines.append(
            f'| {r["method"]} | {_pct(r["mAP"])} | {_pct(r["mAP_slow"])} | '
            f'{_pct(r["mAP_medium"])} | {_pct(r["mAP_fast"])} | {_pct(r["mAP_degraded"])} | '
            f'{r["fps"]:.1f} | {r["params"] / 1e6:.2f}M | {trained} |'
        )
    return '\n'.join(lines)


def plot(rows, path: str, title: str) -> str:
    """mAP@50 against fps, one labelled marker per method (Fig. 6 style)."""
    import matplotlib

    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    markers = {
        'psla_c': ('*', 'tab:red'),
        'frame_baseline': ('o', 'tab:gray'),
        'dff': ('s', 'tab:blue'),
        'fgfa': ('^', 'tab:green'),
        'selsa': ('P', 'tab:purple'),
        'troialign': ('X', 'tab:brown'),
    }
    fig, ax = plt.subplots(figsize=(5.5, 4.0), dpi=120)
    for r in rows:
        marker, color = markers.get(r['key'], ('D', 'black'))
        map50 = 100 * r['mAP'] if r['mAP'] == r['mAP'] else 0.0
        ax.scatter(
            r['fps'],
            map50,
            s=140 if marker == '*' else 70,
            marker=marker,
            color=color,
            label=r['method'],
            zorder=3,
        )
        ax.annotate(
            r['method'], (r['fps'], map50), textcoords='offset points', xytext=(6, 6), fontsize=9
        )
    ax.set_xlabel('runtime (fps, batch 1)')
    ax.set_ylabel('mAP@50 (%)')
    ax.set_title(title, fontsize=10)
    ax.grid(True, linestyle=':', alpha=0.7)
    ax.margins(x=0.15, y=0.12)  # room for the labels
    ax.legend(loc='best', fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def main(argv=None):
    args = parse_args(argv)
    start = time.perf_counter()
    logging.getLogger('mmengine').setLevel(logging.WARNING)
    import mmpsla  # noqa: F401

    data_root = args.data_root
    if data_root:
        from mmpsla.apis.experiment import ensure_data

        if args.quick and data_root == 'data/toy_vid':
            data_root = osp.join(args.work_dir, 'toy_vid_quick')
        ensure_data(data_root, args.quick)
    rows = [run_method(name, args, data_root) for name in args.methods]
    total = time.perf_counter() - start
    where = data_root or "the configs' validation sets"
    table = format_table(rows)
    os.makedirs(args.work_dir, exist_ok=True)
    png = plot(
        rows,
        osp.join(args.work_dir, 'map_vs_fps.png'),
        f'Validation set {where}, CPU ({os.cpu_count()} cores)',
    )
    command = 'python tools/compare.py ' + ' '.join(argv if argv is not None else sys.argv[1:])
    text = '\n'.join(
        [
            '',
            f'Validation set: {where}; CPU, {os.cpu_count()} cores, batch 1; fps over whole '
            f'videos, first {args.warmup} frames not timed.',
            table,
            f'mAP-vs-fps plot: {png}',
            f'Command: {command.strip()}',
            f'Wall time: {total:.0f} s',
        ]
    )
    print(text, flush=True)
    with open(osp.join(args.work_dir, 'compare.md'), 'w') as f:
        f.write(text + '\n')
    with open(osp.join(args.work_dir, 'compare.json'), 'w') as f:
        json.dump(
            dict(rows=rows, data_root=data_root, command=command.strip(), wall_s=total), f, indent=2
        )
    return rows


if __name__ == '__main__':
    main()

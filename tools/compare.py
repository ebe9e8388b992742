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
    python tools/compare.py --methods frame_baseline psla_c --seeds 5   # seed study

Training recipe (the paper's, Sec. 4.1, plus PSLA's key-frame loss): every method starts
from one pretrained N_f, the stand-in for ImageNet weights (``--pretrained auto``: the toy
frame detector trained once on the train split, its backbone cached in
``work_dirs/pretrained_nf``; ``--pretrained none``: from scratch, the old toy recipe).
``--seeds N`` trains and tests every method with seeds 0..N-1 (same N_f for all) and prints
mean ± sd, the per-seed differences PSLA − each other method and the fps ratios (Markdown +
JSON: ``seeds.md`` / ``seeds.json``). Every training / test stage prints a progress line
every ``--log-interval`` iterations; the output ends with the wall time of each stage.

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
from contextlib import nullcontext

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


def parse_args(argv=None):
    from mmpsla.apis.experiment import (
        add_recipe_arguments,
        add_study_arguments,
        check_recipe_arguments,
        check_study_arguments,
        parse_method_pairs,
    )

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_study_arguments(
        parser,
        METHODS,
        list(METHODS),
        None,
        "PSLA's key_frame_loss_weight with a pretrained N_f (default: the recipe's, 1.0; "
        "0 is the paper's loss)",
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
    parser.add_argument(
        '--iters',
        type=int,
        default=None,
        help="train iterations (default: 600 on the pretrained N_f, the configs' 1500 from "
        'scratch)',
    )
    parser.add_argument('--warmup', type=int, default=10, help='untimed leading test frames')
    add_recipe_arguments(parser, heads_default=True)
    parser.add_argument(
        '--quick',
        action='store_true',
        help='tiny smoke run: small toy set, 4 iterations (tests, CI)',
    )
    args = parser.parse_args(argv)
    check_study_arguments(args, METHODS)
    args.configs = parse_method_pairs(args.configs, '--configs', METHODS)
    check_recipe_arguments(args)
    return args


def build_method_cfg(name: str, args, data_root: str, seed: int = 0, nf: str = None, times=None):
    """The method's config, pointed at ``data_root`` and its own work dir, with ``seed``
    and, when ``nf`` is given, its N_f initialised from that checkpoint (with
    ``--pretrained-heads``, N_f and heads from the frame model of the method's head type:
    :func:`~mmpsla.apis.experiment.ensure_pretrained_heads`).

    Returns:
        tuple: ``(cfg, cfg_path, frame_checkpoint)``; the last is the checkpoint the heads
        start from, or None.
    """
    from mmpsla.apis.experiment import (
        apply_toy_recipe,
        build_cfg,
        default_iters,
        ensure_pretrained_heads,
    )

    cfg_path = args.configs.get(name, METHODS[name][1])
    work_dir = (
        osp.join(args.work_dir, name)
        if args.seeds == 1
        else (osp.join(args.work_dir, f'seed{seed}', name))
    )
    iters = default_iters(args.iters, args.quick, nf is not None and name not in args.checkpoints)
    if data_root:
        cfg = build_cfg(cfg_path, data_root, work_dir, iters, seed=seed)
    else:  # keep the config's dataset (e.g. ImageNet VID)
        from mmengine.config import Config

        cfg = Config.fromfile(cfg_path if osp.isabs(cfg_path) else osp.join(ROOT, cfg_path))
        cfg.work_dir = work_dir
        cfg.randomness = dict(cfg.get('randomness', None) or {}, seed=seed)
        if iters is not None:
            cfg.train_cfg.max_iters = iters
    frame = None
    if name in args.checkpoints:
        cfg.load_from = args.checkpoints[name]
    elif nf is not None:
        weight = args.key_frame_loss_weight
        kwargs = {} if weight is None else {'key_frame_loss_weight': weight}
        heads_cfg = cfg.get('pretrained_heads_config', None)
        if args.pretrained_heads:
            stage = (
                times(f'pretrain heads ({heads_cfg}; cached)')
                if times and heads_cfg
                else nullcontext()
            )
            with stage:
                frame = ensure_pretrained_heads(
                    cfg, nf, data_root, args.log_interval, iters=4 if args.quick else None
                )
        apply_toy_recipe(cfg, frame or nf, heads=args.pretrained_heads, **kwargs)
    # no validation while training: the test set is evaluated once, afterwards
    cfg.val_dataloader = cfg.val_cfg = cfg.val_evaluator = None
    return cfg, cfg_path, frame


def run_method(name: str, args, data_root: str, seed: int, nf, times):
    """Train (or load) and test one method; return its row (fps added later) and runner."""
    from mmengine.runner import Runner

    from mmpsla.apis import count_parameters
    from mmpsla.apis.experiment import (
        HEAD_KEYS,
        ProgressHook,
        check_pretrained_heads,
        checkpoint_iter,
        train_and_test,
    )

    cfg, cfg_path, frame = build_method_cfg(name, args, data_root, seed, nf, times)
    label = METHODS[name][0] + (f' seed {seed}' if args.seeds > 1 else '')
    runner = Runner.from_cfg(cfg)
    if frame is not None:
        check_pretrained_heads(runner.model, frame, list(HEAD_KEYS))
    runner.register_hook(ProgressHook(label, args.log_interval))
    if name in args.checkpoints:
        print(f'==> {label}: testing {args.checkpoints[name]} ({cfg_path})', flush=True)
    note = f': {cfg.train_cfg.max_iters} iterations ({cfg_path})'
    metrics, train_s = train_and_test(runner, label, times, name not in args.checkpoints, note)
    model = runner.model
    row = dict(method=METHODS[name][0], key=name, config=cfg_path, seed=seed)
    for column, key in METRIC_KEYS:
        row[column] = float(metrics.get(key, float('nan')))
    row.update(
        params=count_parameters(model),
        train_iters=checkpoint_iter(args.checkpoints[name])
        if name in args.checkpoints
        else cfg.train_cfg.max_iters,
        train_s=train_s,
        checkpoint=args.checkpoints.get(name),
        pretrained=None if name in args.checkpoints else (frame or nf),
    )
    print(f'    {label}: mAP@50 {100 * row["mAP"]:.1f}', flush=True)
    return row, runner


def time_side_by_side(rows, runners, warmup: int, times, label: str = '') -> None:
    """fps of every row's model, measured side by side (each frame through each model in
    turn) among the models that share one test pipeline; adds ``fps`` and
    ``frames_timed`` to the rows."""
    from mmpsla.apis import measure_fps

    groups = {}
    for row in rows:
        cfg = runners[row['key']].cfg.test_dataloader
        groups.setdefault(json.dumps(cfg.to_dict(), sort_keys=True, default=str), []).append(row)
    with times(f'time {len(rows)} model(s) side by side{label}'):
        for group in groups.values():
            models = {r['key']: runners[r['key']].model for r in group}
            loader = runners[group[0]['key']].test_dataloader
            timings = measure_fps(models, loader, warmup=warmup)
            for r in group:
                r.update(fps=timings[r['key']]['fps'], frames_timed=timings[r['key']]['frames'])
                print(f'    {r["method"]}: {r["fps"]:.1f} fps', flush=True)


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


def aggregate_json(args):
    """``--from-json``: merge the seeds of earlier runs and write the seed study."""
    from mmpsla.apis.experiment import write_seed_study
    from mmpsla.apis.seed_study import format_seed_study, load_seed_files, summarize_seeds

    try:
        rows_by_seed = load_seed_files(args.from_json, args.methods)
    except ValueError as err:
        raise SystemExit(f'--from-json: {err}') from err
    summary = summarize_seeds(rows_by_seed)
    text = '\n'.join(
        [
            f'Seeds {sorted(rows_by_seed)} from {", ".join(args.from_json)} (mean ± sd):',
            format_seed_study(summary),
        ]
    )
    print(text, flush=True)
    write_seed_study(args.work_dir, text, rows_by_seed, summary, sources=args.from_json)
    return rows_by_seed


def main(argv=None):
    args = parse_args(argv)
    start = time.perf_counter()
    logging.getLogger('mmengine').setLevel(logging.WARNING)
    import mmpsla  # noqa: F401
    from mmpsla.apis.experiment import (
        StageTimes,
        resolve_nf,
        write_results,
        write_seed_result,
        write_seed_study,
    )

    if args.from_json:
        return aggregate_json(args)
    times = StageTimes()
    data_root = args.data_root
    if data_root:
        from mmpsla.apis.experiment import ensure_data

        if args.quick and data_root == 'data/toy_vid':
            data_root = osp.join(args.work_dir, 'toy_vid_quick')
        ensure_data(data_root, args.quick)
    # every trained method starts from one N_f (none needed when all are given checkpoints)
    nf = None if len(args.checkpoints) == len(args.methods) else resolve_nf(args, data_root, times)
    seeds = list(range(args.first_seed, args.first_seed + args.seeds))
    rows_by_seed = {}
    for seed in seeds:
        rows, runners = [], {}
        for name in args.methods:
            row, runners[name] = run_method(name, args, data_root, seed, nf, times)
            rows.append(row)
        time_side_by_side(
            rows, runners, args.warmup, times, f', seed {seed}' if args.seeds > 1 else ''
        )
        rows_by_seed[seed] = rows
        if args.seeds > 1:  # on disk at once: a study stopped later keeps this seed
            write_seed_result(args.work_dir, seed, f'Seed {seed}:\n{format_table(rows)}', rows)
    total = time.perf_counter() - start
    where = data_root or "the configs' validation sets"
    os.makedirs(args.work_dir, exist_ok=True)
    command = 'python tools/compare.py ' + ' '.join(argv if argv is not None else sys.argv[1:])
    init = f'N_f from {nf}' if nf else 'N_f from scratch (or the given checkpoints)'
    if nf and args.pretrained_heads:
        init += ', heads too'
    intro = (
        f'Validation set: {where}; CPU, {os.cpu_count()} cores, batch 1; fps over whole '
        f'videos, first {args.warmup} frames not timed, models sharing a test pipeline timed '
        f'side by side; {init}.'
    )
    meta = dict(
        data_root=data_root,
        pretrained=nf,
        pretrained_heads=bool(nf and args.pretrained_heads),
        command=command.strip(),
        stage_s=times.seconds,
        wall_s=total,
    )
    footer = [
        'Stage times:',
        times.table(),
        f'Command: {command.strip()}',
        f'Wall time: {total:.0f} s',
    ]
    if args.seeds == 1:
        rows = rows_by_seed[seeds[0]]
        png = plot(
            rows,
            osp.join(args.work_dir, 'map_vs_fps.png'),
            f'Validation set {where}, CPU ({os.cpu_count()} cores)',
        )
        text = '\n'.join(['', intro, format_table(rows), f'mAP-vs-fps plot: {png}'] + footer)
        print(text, flush=True)
        write_results(args.work_dir, 'compare', text, dict(rows=rows, **meta))
        return rows
    from mmpsla.apis.seed_study import format_seed_study, summarize_seeds

    summary = summarize_seeds(rows_by_seed)
    per_seed = [f'Seed {s}:\n{format_table(rows_by_seed[s])}' for s in seeds]
    text = '\n'.join(
        ['', intro, *per_seed, '', f'Over seeds {seeds} (mean ± sd):', format_seed_study(summary)]
        + footer
    )
    print(text, flush=True)
    write_seed_study(args.work_dir, text, rows_by_seed, summary, **meta)
    return rows_by_seed


if __name__ == '__main__':
    main()

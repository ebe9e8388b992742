"""`make demo-seg`: PSLA (c) and the frame baseline on the toy video-segmentation set.

    python tools/demo_seg.py                       # the demo (at most 15 min on 2 CPU cores)
    python tools/demo_seg.py --quick               # a tiny smoke run (a few iterations)
    python tools/demo_seg.py --seeds 3             # seed study: mean ± sd, PSLA − baseline
    python tools/demo_seg.py --methods psla_c frame_baseline dff
    python tools/demo_seg.py --from-json A/results.json B/results.json   # merge earlier seeds

Training recipe (the paper's, Sec. 4.1 / 4.4, as ``tools/compare.py`` for detection):
every method starts from one pretrained N_f, the stand-in for ImageNet weights
(``--pretrained auto``: the toy frame segmentor ``configs/seg/toy/nf_pretrain_toy_seg.py``
trained once on the toy train split's annotated frames, its backbone cached in
``work_dirs/pretrained_nf``; ``--pretrained none``: from scratch; or a checkpoint path),
then each method is trained with the mmengine Runner in this process (one progress line
every ``--log-interval`` iterations), tested (mIoU overall and on the degraded / clean
annotated frames), and the methods are timed side by side on 4 whole validation snippets
(streaming, key frame every l frames). With ``--seeds N`` all of it is repeated for seeds
``--first-seed`` .. + N − 1 (same N_f), and the per-seed tables, each method's mean ± sd
and the per-seed differences PSLA − each other method are printed and written
(``seeds.md`` / ``seeds.json``; one seed: ``results.md`` / ``results.json`` and
``predictions.png``: frame, ground truth and each method on degraded annotated frames).
The output ends with the wall time of each stage.
"""

import argparse
import logging
import os
import os.path as osp
import sys
import time

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

#: name -> (label in the table, config), in the table's order
METHODS = {
    'psla_c': ('PSLA (c)', 'configs/seg/toy/psla_c_toy_seg.py'),
    'frame_baseline': ('Frame baseline', 'configs/seg/toy/frame_baseline_toy_seg.py'),
    'dff': ('DFF', 'configs/seg/toy/dff_toy_seg.py'),
}
DEFAULT_METHODS = ('psla_c', 'frame_baseline')
#: mmseg metric key -> row field (percentages are stored as fractions, as compare.py's mAP)
METRIC_KEYS = (
    ('mIoU', 'mIoU'),
    ('mIoU_degraded', 'degraded_mIoU'),
    ('mIoU_clean', 'not_degraded_mIoU'),
)
#: names of the seed study's metrics in its table
STUDY_NAMES = dict(mIoU='mIoU', mIoU_degraded='mIoU degraded')
#: Training iterations of every method on top of the pretrained N_f (``--iters``).
SEG_FINETUNE_ITERS = 300
#: PSLA's ``key_frame_loss_weight`` by default. Measured (toy seg val, seeds 0-2, 300
#: iterations from the pretrained N_f, one thread; README "Video segmentation on CityScapes"):
#: the paper's loss (0, non-key frame only) gave PSLA (c) 62.8 +- 1.0 mIoU / 54.8 +- 1.4 on
#: degraded annotated frames, weight 1 gave 65.4 +- 0.6 / 59.7 +- 0.8 (better on every seed;
#: frame baseline 59.7 +- 1.4 / 46.8 +- 2.1), so the demo uses 1, as the detection recipe.
SEG_KEY_FRAME_LOSS_WEIGHT = 1.0


def parse_args(argv=None):
    from mmpsla.apis.experiment import (
        add_recipe_arguments,
        add_study_arguments,
        check_recipe_arguments,
        check_study_arguments,
    )

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_study_arguments(
        parser,
        METHODS,
        DEFAULT_METHODS,
        SEG_KEY_FRAME_LOSS_WEIGHT,
        "PSLA's key_frame_loss_weight (default: %(default)s; 0 is the paper's loss)",
    )
    parser.add_argument('--data-root', default='data/toy_seg', help='toy set folder')
    parser.add_argument('--work-dir', default='work_dirs/demo_seg', help='output folder')
    parser.add_argument(
        '--iters',
        type=int,
        default=None,
        help=f'train iterations (default: {SEG_FINETUNE_ITERS} on the pretrained N_f, the '
        "configs' 300 from scratch)",
    )
    add_recipe_arguments(parser)
    parser.add_argument('--quick', action='store_true', help='tiny smoke run (tests, CI)')
    args = parser.parse_args(argv)
    check_study_arguments(args, METHODS)
    check_recipe_arguments(args)
    return args


def ensure_data(data_root: str, quick: bool) -> None:
    """Generate the toy set (a tiny one with ``quick``) unless it is already there."""
    from mmpsla.datasets.toy_seg import make_toy_seg

    if quick:
        make_toy_seg(data_root, seed=0, num_train_snippets=4, num_val_snippets=2)
    else:
        make_toy_seg(data_root, seed=0)


def build_method_cfg(name: str, args, data_root: str, seed: int, nf):
    """The method's toy config on ``data_root`` with ``seed``, its own work dir and, when
    ``nf`` is given, N_f initialised from it (:func:`apply_toy_recipe`, PSLA's
    key-frame loss weight from ``--key-frame-loss-weight``)."""
    from mmpsla.apis.experiment import apply_toy_recipe, build_cfg, default_iters

    sub = name if args.seeds == 1 else osp.join(f'seed{seed}', name)
    iters = default_iters(args.iters, args.quick, nf is not None, SEG_FINETUNE_ITERS)
    cfg = build_cfg(METHODS[name][1], data_root, osp.join(args.work_dir, sub), iters, seed=seed)
    if name in args.checkpoints:  # tested only; the weight is recorded with the row
        cfg.load_from = args.checkpoints[name]
    elif nf is not None:
        apply_toy_recipe(cfg, nf, args.key_frame_loss_weight, heads=args.pretrained_heads)
    if 'key_frame_loss_weight' in cfg.model:
        cfg.model.key_frame_loss_weight = args.key_frame_loss_weight
    cfg.val_dataloader = cfg.val_cfg = cfg.val_evaluator = None
    return cfg


def run_method(name: str, args, data_root: str, seed: int, nf, times):
    """Train and test one method; returns its row (fps added later) and its runner."""
    from mmengine.runner import Runner

    from mmpsla.apis import count_parameters
    from mmpsla.apis.experiment import ProgressHook, checkpoint_iter, train_and_test

    cfg = build_method_cfg(name, args, data_root, seed, nf)
    label = METHODS[name][0] + (f' seed {seed}' if args.seeds > 1 else '')
    runner = Runner.from_cfg(cfg)
    runner.register_hook(ProgressHook(label, args.log_interval))
    trained = name not in args.checkpoints
    if not trained:
        print(f'==> {label}: testing {args.checkpoints[name]}', flush=True)
    note = f': {cfg.train_cfg.max_iters} iterations ({METHODS[name][1]})'
    metrics, train_s = train_and_test(runner, label, times, trained, note)
    row = dict(method=METHODS[name][0], key=name, config=METHODS[name][1], seed=seed)
    for column, key in METRIC_KEYS:
        row[column] = float(metrics.get(key, float('nan'))) / 100.0
    row.update(
        params=count_parameters(runner.model),
        train_iters=cfg.train_cfg.max_iters if trained else checkpoint_iter(cfg.load_from),
        train_s=train_s,
        checkpoint=None if trained else cfg.load_from,
        pretrained=nf if trained else None,
        key_frame_loss_weight=cfg.model.get('key_frame_loss_weight'),
    )
    print(f'    {label}: mIoU {100 * row["mIoU"]:.1f}', flush=True)
    return row, runner


def time_side_by_side(rows, runners, quick: bool, times, label: str = ''):
    """fps (all, key and non-key steps) of every row's model, side by side, one thread, on
    whole validation snippets; adds them to the rows. Returns the test dataloader."""
    import torch

    from mmpsla.apis.seg_benchmark import load_snippet_clips, measure_seg_fps

    loader = runners[rows[0]['key']].test_dataloader
    dataset = loader.dataset
    data_list = [dataset.get_data_info(i) for i in range(len(dataset))]
    interval = dataset.pipeline.transforms[0].key_frame_interval
    models = {r['key']: runners[r['key']].model.eval() for r in rows}
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with times(f'time {len(rows)} model(s) side by side{label}'):
            clips = load_snippet_clips(data_list, max_snippets=2 if quick else 4)
            timings = measure_seg_fps(models, clips, interval)
    finally:
        torch.set_num_threads(threads)
    for r in rows:
        r.update({k: timings[r['key']][k] for k in ('fps', 'key_fps', 'nonkey_fps')})
        print(f'    {r["method"]}: {r["fps"]:.1f} fps', flush=True)
    return loader, interval


def colorize(label, palette):
    import numpy as np

    lut = np.zeros((256, 3), np.uint8)
    lut[: len(palette)] = np.array(palette, np.uint8)[:, ::-1]  # RGB -> BGR
    return lut[label]


def write_predictions(models, palette, out_path, num=4):
    """Rows: degraded annotated frames; columns: frame, ground truth, each model.

    ``models`` maps a column name to ``(model, test dataloader)``: each model reads its own
    test pipeline (PSLA's clips carry key frames, the frame baseline's do not); the loaders
    list the same annotated frames in the same order."""
    import cv2
    import numpy as np
    import torch

    rows = []
    with torch.no_grad():
        for batches in zip(*(loader for _, loader in models.values())):
            sample = batches[0]['data_samples'][0]
            if not sample.is_degraded:
                continue
            frame = cv2.imread(sample.img_path)
            gt = sample.gt_sem_seg.data[0].numpy().astype(np.uint8)
            cells = [frame, colorize(gt, palette)]
            for (model, _), data in zip(models.values(), batches):
                assert data['data_samples'][0].img_path == sample.img_path  # same frame
                out = model.test_step(data)[0]
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


def _pct(value: float) -> str:
    return 'n/a' if value != value else f'{100 * value:.1f}'  # nan -> n/a


def format_table(rows) -> str:
    """Markdown table of one seed's methods."""
    lines = [
        '| method | mIoU | mIoU degraded annotated frames | mIoU clean annotated frames | '
        'fps | fps key steps | fps non-key steps | params | trained |',
        '|' + '---|' * 9,
    ]
    for r in rows:
        nonkey = f'{r["nonkey_fps"]:.1f}' if r['nonkey_fps'] > 0 else 'n/a'
        trained = 'checkpoint' if r.get('checkpoint') else f'{r["train_s"]:.0f} s'
        lines.append(
            f'| {r["method"]} | {_pct(r["mIoU"])} | {_pct(r["mIoU_degraded"])} | '
            f'{_pct(r["mIoU_clean"])} | {r["fps"]:.1f} | {r["key_fps"]:.1f} | {nonkey} | '
            f'{r["params"] / 1e6:.2f}M | {r["train_iters"]} it, {trained} |'
        )
    return '\n'.join(lines)


def _study_text(rows_by_seed, title: str):
    """The seed study (mean ± sd, PSLA − others per seed) as Markdown, and its summary."""
    from mmpsla.apis.seed_study import format_seed_study, summarize_seeds

    summary = summarize_seeds(rows_by_seed, metrics=tuple(STUDY_NAMES))
    return f'{title}\n' + format_seed_study(summary, STUDY_NAMES), summary


def aggregate_json(args):
    """``--from-json``: merge the seeds of earlier runs and write the seed study."""
    from mmpsla.apis.experiment import write_seed_study
    from mmpsla.apis.seed_study import load_seed_files

    try:
        rows_by_seed = load_seed_files(args.from_json, args.methods)
    except ValueError as err:
        raise SystemExit(f'--from-json: {err}') from err
    title = f'Seeds {sorted(rows_by_seed)} from {", ".join(args.from_json)} (mean ± sd):'
    text, summary = _study_text(rows_by_seed, title)
    print(text, flush=True)
    write_seed_study(args.work_dir, text, rows_by_seed, summary, sources=args.from_json)
    return rows_by_seed


def main(argv=None):
    args = parse_args(argv)
    start = time.perf_counter()
    logging.getLogger('mmengine').setLevel(logging.WARNING)
    import mmpsla  # noqa: F401
    from mmpsla.apis.experiment import (
        SEG_NF_PRETRAIN_CONFIG,
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
    if args.quick and data_root == 'data/toy_seg':
        data_root = osp.join(args.work_dir, 'toy_seg_quick')
    with times(f'toy segmentation set in {data_root} (generated when missing)'):
        ensure_data(data_root, args.quick)
    # every trained method starts from one N_f (none needed when all are given checkpoints)
    all_given = len(args.checkpoints) == len(args.methods)
    nf = None if all_given else resolve_nf(args, data_root, times, SEG_NF_PRETRAIN_CONFIG)
    seeds = list(range(args.first_seed, args.first_seed + args.seeds))
    rows_by_seed, png, interval = {}, None, None
    for seed in seeds:
        rows, runners = [], {}
        for name in args.methods:
            row, runners[name] = run_method(name, args, data_root, seed, nf, times)
            rows.append(row)
        label = f', seed {seed}' if args.seeds > 1 else ''
        loader, interval = time_side_by_side(rows, runners, args.quick, times, label)
        if seed == seeds[0]:
            with times('predictions image'):
                models = {
                    r['method']: (runners[r['key']].model, runners[r['key']].test_dataloader)
                    for r in rows
                }
                png = write_predictions(
                    models,
                    loader.dataset.metainfo['palette'],
                    osp.join(args.work_dir, 'predictions.png'),
                )
        rows_by_seed[seed] = rows
        if args.seeds > 1:  # on disk at once: a study stopped later keeps this seed
            write_seed_result(args.work_dir, seed, f'Seed {seed}:\n{format_table(rows)}', rows)
    total = time.perf_counter() - start
    os.makedirs(args.work_dir, exist_ok=True)
    command = 'python tools/demo_seg.py ' + ' '.join(argv if argv is not None else sys.argv[1:])
    init = f'N_f from {nf}' if nf else 'N_f from scratch'
    if nf and args.pretrained_heads:
        init += ', heads too'
    if all_given:
        init = 'checkpoints given: ' + ', '.join(f'{k}={v}' for k, v in args.checkpoints.items())
    intro = (
        f'Toy segmentation validation set ({data_root}); {init}; PSLA key-frame loss weight '
        f'{args.key_frame_loss_weight:g}; fps on CPU, 1 thread, whole snippets, l = {interval}, '
        'models timed side by side.'
    )
    meta = dict(
        data_root=data_root,
        pretrained=nf,
        pretrained_heads=bool(nf and args.pretrained_heads),
        key_frame_loss_weight=args.key_frame_loss_weight,
        command=command.strip(),
        stage_s=times.seconds,
        wall_s=total,
    )
    footer = [
        f'Predictions next to the ground truth: {png}',
        'Stage times:',
        times.table(),
        f'Command: {command.strip()}',
        f'Demo wall time: {total:.0f} s',
    ]
    per_seed = [f'Seed {s}:\n{format_table(rows_by_seed[s])}' for s in seeds]
    study, summary = _study_text(rows_by_seed, f'Over seeds {seeds} (mean ± sd):')
    text = '\n'.join(['', intro, *per_seed, '', study] + footer)
    print(text, flush=True)
    if args.seeds == 1:
        write_results(args.work_dir, 'results', text, dict(rows=rows_by_seed[seeds[0]], **meta))
        return rows_by_seed[seeds[0]]
    write_seed_study(args.work_dir, text, rows_by_seed, summary, **meta)
    return rows_by_seed


if __name__ == '__main__':
    main()

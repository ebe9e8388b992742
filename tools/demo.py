"""`make demo`: train PSLA (c) and the frame baseline on the toy VID set on the CPU, test
both, print one comparison table and write an annotated GIF of PSLA's detections.

    python tools/demo.py            # full demo (at most ~15 min on 2 CPU cores)
    python tools/demo.py --quick    # a tiny smoke run (data subset, a few iterations)

Training recipe (the paper's, Sec. 4.1, plus PSLA's key-frame loss): both methods start from
one pretrained N_f, the stand-in for ImageNet weights: the toy frame detector trained once
on the train split (``configs/toy/nf_pretrain_toy.py``), its backbone cached in
``work_dirs/pretrained_nf`` and reused by later runs (``--pretrained none``: from scratch).
PSLA keeps the toy configs' key-frame loss (``key_frame_loss_weight=1``; measured: the
paper's loss alone leaves its key frames at 14.6 mAP@50 even from the pretrained N_f, see
README). Every stage prints a progress line (iteration, loss, time left) every
``--log-interval`` iterations; the summary ends with each stage's wall time.

Time budget: both methods train for the same number of iterations, at most ``--iters``
(600 on the pretrained N_f). The first run also pretrains N_f (1500 iterations of the frame
detector, about 3-4 min on 2 idle cores); later runs reuse it. After a few iterations of
PSLA the demo measures the time per iteration and shortens the schedule (LR decay kept at
75 %) so that the whole demo fits ``--minutes`` on a slow or busy machine; the table
reports the iterations actually run.

Everything goes to ``--work-dir`` (default ``work_dirs/demo``); the toy data is generated
into ``--data-root`` (default ``data/toy_vid``) when it is missing.
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

RESERVE_S = 100  # testing and side-by-side timing of both models, the GIF (~30 s measured)
BASELINE_COST = 0.6  # frame-baseline / PSLA (c) training time per iteration
METHODS = (
    ('PSLA (c)', 'configs/toy/psla_c_toy.py', 'psla_c'),
    ('Frame baseline', 'configs/toy/frame_baseline_toy.py', 'frame_baseline'),
)


def parse_args(argv=None):
    from mmpsla.apis.experiment import add_recipe_arguments, check_recipe_arguments

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--data-root', default='data/toy_vid', help='toy dataset folder')
    parser.add_argument('--work-dir', default='work_dirs/demo', help='output folder')
    parser.add_argument(
        '--iters',
        type=int,
        default=None,
        help="train iterations (default: 600 on the pretrained N_f, the configs' 1500 from "
        'scratch; shortened to fit --minutes)',
    )
    parser.add_argument('--quick', action='store_true', help='tiny smoke run (tests, CI)')
    parser.add_argument('--score-thr', type=float, default=0.5, help='GIF drawing threshold')
    parser.add_argument('--minutes', type=float, default=15.0, help='wall-time budget')
    add_recipe_arguments(parser, heads_default=True)
    args = parser.parse_args(argv)
    check_recipe_arguments(args)
    return args


def run_method(name, cfg_path, tag, args, data_root, times, nf=None, iters=None, budget_s=None):
    """Train and test one method; return its row (no timing yet) and its runner."""
    from mmengine.runner import Runner

    from mmpsla.apis import count_parameters
    from mmpsla.apis.experiment import (
        ProgressHook,
        TimeBudget,
        apply_toy_recipe,
        build_cfg,
        train_and_test,
    )

    work_dir = osp.join(args.work_dir, tag)
    cfg = build_cfg(cfg_path, data_root, work_dir, iters)
    if nf is not None:
        apply_toy_recipe(cfg, nf, heads=args.pretrained_heads)
    runner = Runner.from_cfg(cfg)
    runner.register_hook(ProgressHook(name, args.log_interval))
    if budget_s is not None:
        runner.register_hook(TimeBudget(budget_s))
    note = f' (up to {cfg.train_cfg.max_iters} iterations)'
    metrics, train_s = train_and_test(runner, name, times, note=note)
    model = runner.model
    model.cfg = runner.cfg  # inference_video builds its test pipeline from it
    row = {
        'method': name,
        'mAP': metrics.get('vid/mAP', float('nan')),
        'mAP_degraded': metrics.get('vid/mAP_degraded', float('nan')),
        'mAP_clean': metrics.get('vid/mAP_clean', float('nan')),
        # frames the schedule makes key frames (PSLA: N_f + RFU) and the others (N_l +
        # DenseFT); the same frames for the baseline, which runs N_f on all of them
        'mAP_key_frames': metrics.get('vid/mAP_key_frames', float('nan')),
        'mAP_non_key_frames': metrics.get('vid/mAP_non_key_frames', float('nan')),
        'params': count_parameters(model),
        'train_s': train_s,
        'iters': runner.train_loop.max_iters,
    }
    return row, runner


def write_gif(model, data_root, out_path, score_thr):
    """Annotated GIF of ``model`` on the first validation video."""
    from mmpsla.apis import draw_detections, inference_video, write_video

    with open(osp.join(data_root, 'annotations', 'val.json')) as f:
        ann = json.load(f)
    video_id = ann['videos'][0]['id']
    images = sorted(
        (i for i in ann['images'] if i['video_id'] == video_id), key=lambda i: i['frame_id']
    )
    paths = [osp.join(data_root, 'Data', i['file_name']) for i in images]
    names = [c['name'] for c in sorted(ann['categories'], key=lambda c: c['id'])]
    import mmcv

    frames = []
    for path, info, det in zip(paths, images, inference_video(model, paths)):
        tag = 'key' if det.is_key_frame else 'non-key'
        if info.get('is_degraded'):
            tag += ', degraded'
        frames.append(
            draw_detections(
                mmcv.imread(path),
                det.pred_instances,
                names,
                score_thr,
                caption=f'#{info["frame_id"]} {tag}',
            )
        )
    return write_video(frames, out_path, fps=8)


def _fps(value: float) -> str:
    """fps of one kind of step; 'n/a' for a model that never takes such a step."""
    return f'{value:.1f}' if value > 0 else 'n/a'


def format_table(rows):
    header = (
        '| method | mAP@50 | mAP@50 degraded | mAP@50 clean | mAP@50 key / non-key frames | '
        'fps | fps key steps | fps non-key steps | params | train iters (s) |'
    )
    lines = [header, '|' + '---|' * 10]
    for r in rows:
        lines.append(
            f'| {r["method"]} | {100 * r["mAP"]:.1f} | {100 * r["mAP_degraded"]:.1f} | '
            f'{100 * r["mAP_clean"]:.1f} | {100 * r["mAP_key_frames"]:.1f} / '
            f'{100 * r["mAP_non_key_frames"]:.1f} | {r["fps"]:.1f} | {r["key_fps"]:.1f} | '
            f'{_fps(r["nonkey_fps"])} | {r["params"] / 1e6:.2f}M | {r["iters"]} '
            f'({r["train_s"]:.0f}) |'
        )
    return '\n'.join(lines)


def main(argv=None):
    args = parse_args(argv)
    start = time.perf_counter()
    logging.getLogger('mmengine').setLevel(logging.WARNING)
    import mmpsla  # noqa: F401
    from mmpsla.apis.experiment import (
        StageTimes,
        default_iters,
        ensure_data,
        resolve_nf,
        write_results,
    )

    times = StageTimes()
    data_root = args.data_root
    if args.quick and args.data_root == 'data/toy_vid':
        data_root = osp.join(args.work_dir, 'toy_vid_quick')
    with times('toy data'):
        ensure_data(data_root, args.quick)
    nf = resolve_nf(args, data_root, times)
    rows, runners = [], {}
    iters = default_iters(args.iters, args.quick, nf is not None)
    # training budget: the total minus what was spent and a reserve for testing, timing and
    # the GIF; PSLA gets its share (a baseline iteration costs ~0.6 of a PSLA one) and the
    # baseline then trains the same number of iterations
    train_s = args.minutes * 60 - (time.perf_counter() - start) - RESERVE_S
    budget_s = None if args.quick else max(train_s, 60) / (1 + BASELINE_COST)
    for name, cfg_path, tag in METHODS:
        row, runner = run_method(name, cfg_path, tag, args, data_root, times, nf, iters, budget_s)
        rows.append(row)
        runners[tag] = runner
        iters, budget_s = row['iters'], None
    # both models timed side by side on the same frames (a busy machine slows both alike)
    from mmpsla.apis import measure_fps

    models = {tag: runner.model for tag, runner in runners.items()}
    with times('time both models side by side'):
        timings = measure_fps(models, runners['psla_c'].test_dataloader, warmup=5)
    for row, tag in zip(rows, models):
        row.update({k: timings[tag][k] for k in ('fps', 'key_fps', 'nonkey_fps')})
    gif_path = osp.join(args.work_dir, 'psla_c_demo.gif')
    with times('annotated GIF'):
        gif = write_gif(models['psla_c'], data_root, gif_path, args.score_thr)
    table = format_table(rows)
    psla, base = rows
    ratio = psla['fps'] / base['fps'] if base['fps'] > 0 else float('nan')
    total = time.perf_counter() - start
    init = f'N_f pretrained ({nf})' if nf else 'from scratch'
    if nf and args.pretrained_heads:
        init += ', heads too'
    summary = [
        '',
        f'Toy VID validation set ({data_root}), CPU, {os.cpu_count()} cores, batch 1; both '
        f'methods trained from {init}:',
        table,
        f'PSLA (c) / frame baseline speed: {ratio:.2f}x; degraded-frame mAP@50 difference: '
        f'{100 * (psla["mAP_degraded"] - base["mAP_degraded"]):+.1f} points.',
        f'Annotated PSLA detections: {gif}',
        'Stage times:',
        times.table(),
        f'Demo wall time: {total:.0f} s',
    ]
    text = '\n'.join(summary)
    print(text, flush=True)
    payload = dict(rows=rows, speed_ratio=ratio, pretrained=nf, stage_s=times.seconds, wall_s=total)
    write_results(args.work_dir, 'results', text, payload)
    return rows


if __name__ == '__main__':
    main()

"""Speed (fps over whole videos) and size (parameters) of a video detector or segmentor.

    python tools/benchmark.py configs/toy/psla_c_toy.py [--checkpoint CKPT] [--warmup 10]
    python tools/benchmark.py configs/vid/psla_r101.py --params-only
    python tools/benchmark.py configs/seg/toy/psla_c_toy_seg.py   # video segmentation

fps: frames of the config's test set (batch 1, in order) through ``model.test_step``; data
loading is not timed and the first ``--warmup`` frames are not counted. Steps that ran the
full network N_f (key frames) and those that did not (non-key frames) are timed
separately. ``--params-only`` builds the model without data.

Video segmentation configs (``default_scope='mmseg'``) stream every frame of the test
set's snippets through the segmentor (``mmpsla.apis.seg_benchmark.measure_seg_fps``: the
feature step, the decode head, the resize to the frame and the argmax), with the key-frame
interval of the test pipeline's schedule; ``--max-frames`` rounds up to whole snippets.
"""

import argparse
import os.path as osp
import sys

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

# The paper's model sizes (Table 1 / Table 3), R-FCN head on ResNet-101 (+ DCN), by config.
PAPER_PARAMS = {
    'frame_baseline_r101_dc5.py': 59.6e6,
    'frame-baseline_rfcn_r101-dc5_8xb1-120k_imagenetvid.py': 59.6e6,
    'dff_rfcn_r101-dc5_8xb1-7e_imagenetvid.py': 96.6e6,
    'fgfa_rfcn_r101-dc5_8xb1-7e_imagenetvid.py': 100.4e6,
    'psla_r101.py': 63.7e6,
    'psla_rfcn_r101-dc5_8xb1-120k_imagenetvid.py': 63.7e6,
    'psla_r101_dcn.py': 72.2e6,
    'psla_rfcn-dcn_r101-dc5_8xb1-120k_imagenetvid.py': 72.2e6,
    'psla_a.py': 62.7e6,
}
HEAD_NOTE = (
    'Both use an R-FCN head (RPN + position-sensitive score maps, no fully connected '
    "layers) on DFF's dilated feat_conv_3x3; README.md (Model zoo) lists the published "
    'networks behind the remaining differences.'
)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='fps and parameter count of a video detector')
    parser.add_argument('config', help='config file (.py)')
    parser.add_argument('--checkpoint', default=None, help='weights to load (.pth)')
    parser.add_argument('--warmup', type=int, default=10, help='frames not timed (>= 0)')
    parser.add_argument('--max-frames', type=int, default=None, help='frames to time (>= 1)')
    parser.add_argument('--params-only', action='store_true', help='count parameters only')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        default=None,
        help='key=value overrides (mmengine DictAction syntax)',
    )
    args = parser.parse_args(argv)
    if not osp.isfile(args.config):
        parser.error(f'config file not found: {args.config} (e.g. configs/toy/psla_c_toy.py)')
    if args.checkpoint is not None and not osp.isfile(args.checkpoint):
        parser.error(
            f'--checkpoint file not found: {args.checkpoint} (give a .pth file, or leave '
            '--checkpoint out to time randomly initialised weights)'
        )
    if args.warmup < 0:
        parser.error(f'--warmup must be >= 0 frames, got {args.warmup}')
    if args.max_frames is not None and args.max_frames < 1:
        parser.error(f'--max-frames must be >= 1, got {args.max_frames} (or leave it out: all)')
    return args


def parameter_report(model, config_name: str) -> str:
    from mmpsla.apis import count_parameters

    total = count_parameters(model)
    lines = [f'parameters: {total / 1e6:.2f}M']
    for name, child in model.named_children():
        if name == 'data_preprocessor':
            continue
        lines.append(f'  {name:<10s} {count_parameters(child) / 1e6:8.2f}M')
    paper = PAPER_PARAMS.get(osp.basename(config_name))
    if paper is not None:
        lines.append(f'paper (R-FCN head): {paper / 1e6:.1f}M -> ours {total / 1e6:.1f}M')
        lines.append(HEAD_NOTE)
    return '\n'.join(lines)


def key_frame_interval_of(dataset) -> int:
    """The key-frame interval ``l`` of a video segmentation test pipeline's schedule."""
    for transform in dataset.pipeline.transforms:
        interval = getattr(transform, 'key_frame_interval', None)
        if interval is not None:
            return int(interval)
    raise ValueError(
        'the test pipeline has no key-frame schedule (a transform with key_frame_interval, '
        "e.g. SegKeyFrameSchedule); add one to the config's test_dataloader.dataset.pipeline"
    )


def measure_segmentor(model, dataset, warmup: int, max_frames=None) -> dict:
    """fps of a video segmentor over whole snippets of ``dataset`` (see the module doc)."""
    import math

    from mmpsla.apis.seg_benchmark import load_snippet_clips, measure_seg_fps

    data_list = [dataset.get_data_info(i) for i in range(len(dataset))]
    if not data_list:
        raise ValueError('the test set of the config has no snippets to time')
    max_snippets = None
    if max_frames is not None:
        max_snippets = math.ceil((max_frames + warmup) / len(data_list[0]['frame_paths']))
    clips = load_snippet_clips(data_list, max_snippets=max_snippets)
    return measure_seg_fps(model, clips, key_frame_interval_of(dataset), warmup=warmup)


def main(argv=None):
    args = parse_args(argv)
    from mmengine.config import Config, DictAction  # noqa: F401

    from mmpsla.apis import init_model, measure_fps

    cfg_options = None
    if args.cfg_options:
        action = DictAction(option_strings=[], dest='x')
        ns = argparse.Namespace()
        action(None, ns, args.cfg_options)
        cfg_options = ns.x
    model = init_model(args.config, args.checkpoint, device='cpu', cfg_options=cfg_options)
    print(parameter_report(model, args.config))
    if args.params_only:
        return None
    from mmengine.runner import Runner

    loader = Runner.build_dataloader(model.cfg.test_dataloader)
    if model.cfg.get('default_scope') == 'mmseg':
        result = measure_segmentor(model, loader.dataset, args.warmup, args.max_frames)
    else:
        result = measure_fps(model, loader, warmup=args.warmup, max_frames=args.max_frames)
    print(
        f'fps {result["fps"]:.2f} over {result["frames"]} frames '
        f'(key steps: {result["key_frames"]} at {result["key_fps"]:.2f} fps, '
        f'non-key steps: {result["nonkey_frames"]} at {result["nonkey_fps"]:.2f} fps)'
    )
    return result


if __name__ == '__main__':
    main()

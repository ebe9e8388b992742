"""Side-by-side speed of the R-FCN heads and of deformable PS-RoI pooling, compiled vs
pure PyTorch, at R101 sizes on the CPU.

One process, runs interleaved (round-robin over the variants, ``--repeat`` rounds), random
weights, ``torch.set_num_threads(--threads)``. Printed: best and median ms of

* the whole head (``RFCNBBoxHead``: 1x1 score-map convs, pooling, voting), forward and
  forward + backward: R-FCN (PS-RoIAlign), Deformable R-FCN with the compiled
  ``mmpsla.ops.deform_ps_roi_pool``, and Deformable R-FCN with the pure-PyTorch
  reference ``deform_ps_roi_pool_reference``;
* the compiled deformable head's forward parts (offset conv, class conv, the two poolings);
* the op alone on the class maps (``7*7*31`` channels, offsets ``(N, 2*31, 7, 7)``),
  forward and forward + backward (map and offsets), compiled vs reference,

and the ratios. The machine may be shared: read the ratios, measured side by side.

Sizes (``configs/_base_/models/rfcn_dff_head.py``, the DCN config): a 600x1000 frame gives a
1024-channel stride-16 feature of 38x63, the head reads channels [512, 1024), k = 7,
30 classes + background, class-agnostic boxes, ``--rois`` RoIs (300 at test time).

Example::

    OMP_NUM_THREADS=1 python benchmarks/bench_rfcn_head.py --threads 1 --repeat 3
"""

import argparse
import os.path as osp
import statistics
import sys
import time

import torch
from torch import nn

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from mmpsla.models.roi_heads import RFCNBBoxHead  # noqa: E402
from mmpsla.ops import deform_ps_roi_pool, deform_ps_roi_pool_reference, ext_available  # noqa: E402


class ReferencePool(nn.Module):
    """A ``DeformPSRoIPool`` that runs the pure-PyTorch reference (for the comparison)."""

    def __init__(self, pool: nn.Module) -> None:
        super().__init__()
        self.pool = pool

    def forward(self, x, rois, offsets=None):
        p = self.pool
        return deform_ps_roi_pool_reference(
            x, rois, offsets, p.output_size, p.spatial_scale, p.part_size, p.sample_per_part,
            p.trans_std,
        )  # fmt: skip


def make_rois(n, height=600, width=1000, seed=0):
    """``n`` random boxes of 16..400 px inside the image, ``(0, x1, y1, x2, y2)``."""
    g = torch.Generator().manual_seed(seed)
    wh = 16 + torch.rand(n, 2, generator=g) * 384
    xy = torch.rand(n, 2, generator=g) * (torch.tensor([width, height]) - wh)
    return torch.cat([torch.zeros(n, 1), xy, xy + wh], 1)


def make_head(deformable, reference=False):
    head = RFCNBBoxHead(
        in_channels=1024, feat_slice=(512, 1024), roi_feat_size=7, num_classes=30,
        featmap_stride=16, deformable=deformable,
    )  # fmt: skip
    for conv in head.modules():  # random weights; offsets away from zero, as after training
        if isinstance(conv, nn.Conv2d):
            nn.init.normal_(conv.weight, std=0.01)
    if deformable:
        if reference:
            head.ps_roi_pool = ReferencePool(head.ps_roi_pool)
    return head


def timed(fn):
    start = time.perf_counter()
    fn()
    return (time.perf_counter() - start) * 1e3


def run_rounds(cases, repeat):
    """Round-robin: every case once per round, ``repeat`` rounds (first: warm-up too)."""
    for fn in cases.values():  # warm-up
        fn()
    times = {name: [] for name in cases}
    for _ in range(repeat):
        for name, fn in cases.items():
            times[name].append(timed(fn))
    return times


def report(title, times, pairs):
    print(f'\n{title}')
    for name, ts in times.items():
        print(f'  {name:<44s} best {min(ts):9.1f} ms   median {statistics.median(ts):9.1f} ms')
    for slow, fast in pairs:
        print(f'  {slow} / {fast}: {min(times[slow]) / min(times[fast]):.1f}x (best)')


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--threads', type=int, default=1)
    parser.add_argument('--repeat', type=int, default=3)
    parser.add_argument('--rois', type=int, default=300)
    parser.add_argument('--size', type=int, nargs=2, default=(38, 63), metavar=('H', 'W'))
    args = parser.parse_args()
    if not ext_available():
        sys.exit('mmpsla._ext is not built or stale: run `make ext` first')
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    h, w = args.size
    feat = torch.randn(1, 1024, h, w)
    rois = make_rois(args.rois)
    print(
        f'threads {torch.get_num_threads()}, feature 1x1024x{h}x{w}, {args.rois} RoIs, '
        f'k 7, 31 classes, repeat {args.repeat}'
    )

    heads = {
        'R-FCN (PS-RoIAlign)': make_head(False),
        'Deformable R-FCN, compiled op': make_head(True),
        'Deformable R-FCN, pure-PyTorch op': make_head(True, reference=True),
    }
    heads['Deformable R-FCN, pure-PyTorch op'].load_state_dict(
        heads['Deformable R-FCN, compiled op'].state_dict()
    )
    with torch.no_grad():
        a = heads['Deformable R-FCN, compiled op'](feat, rois)
        b = heads['Deformable R-FCN, pure-PyTorch op'](feat, rois)
    err = max((x - y).abs().max().item() for x, y in zip(a, b))
    print(f'compiled vs pure-PyTorch head outputs: max |difference| {err:.2e}')

    def fwd(head):
        def run():
            with torch.no_grad():
                head(feat, rois)

        return run

    def fwd_bwd(head):
        def run():
            x = feat.detach().requires_grad_()
            cls, reg = head(x, rois)
            (cls.sum() + reg.sum()).backward()

        return run

    names = list(heads)
    slow, fast, plain = names[2], names[1], names[0]
    pairs = [(slow, fast), (fast, plain), (slow, plain)]
    report(
        'Head forward',
        run_rounds({n: fwd(m) for n, m in heads.items()}, args.repeat),
        pairs,
    )
    report(
        'Head forward + backward',
        run_rounds({n: fwd_bwd(m) for n, m in heads.items()}, args.repeat),
        pairs,
    )

    # where the compiled deformable head's forward time goes
    head = heads['Deformable R-FCN, compiled op']
    with torch.no_grad():
        x = feat[:, 512:]
        cls_offset_map, cls_map_head = head.conv_cls_offset(x), head.conv_cls(x)
        cls_offsets = head.ps_roi_pool(cls_offset_map, rois)

    def part(fn):
        def run():
            with torch.no_grad():
                fn()

        return run

    report(
        'Compiled Deformable R-FCN head, forward parts (class branch; the box branch is small)',
        run_rounds(
            {
                'conv_cls_offset (512 -> 7*7*2*31 = 3038 ch)': part(
                    lambda: head.conv_cls_offset(x)
                ),
                'conv_cls (512 -> 7*7*31 = 1519 ch)': part(lambda: head.conv_cls(x)),
                'pool the offset maps (no offsets)': part(
                    lambda: head.ps_roi_pool(cls_offset_map, rois)
                ),
                'pool the class maps (with offsets)': part(
                    lambda: head.ps_roi_pool(cls_map_head, rois, cls_offsets)
                ),
            },
            args.repeat,
        ),
        [],
    )

    # the op alone, on the class maps of the deformable head
    g = torch.Generator().manual_seed(1)
    cls_map = torch.randn(1, 49 * 31, h, w, generator=g)
    offsets = torch.randn(args.rois, 62, 7, 7, generator=g)
    ops = {'compiled': deform_ps_roi_pool, 'pure-PyTorch': deform_ps_roi_pool_reference}

    def op_fwd(fn):
        def run():
            with torch.no_grad():
                fn(cls_map, rois, offsets, (7, 7), 1 / 16, 7, 4, 0.1)

        return run

    def op_fwd_bwd(fn):
        def run():
            x, o = cls_map.detach().requires_grad_(), offsets.detach().requires_grad_()
            fn(x, rois, o, (7, 7), 1 / 16, 7, 4, 0.1).sum().backward()

        return run

    op_pairs = [('pure-PyTorch', 'compiled')]
    report(
        f'Op alone, forward (class maps 1x{49 * 31}x{h}x{w}, offsets {args.rois}x62x7x7)',
        run_rounds({n: op_fwd(f) for n, f in ops.items()}, args.repeat),
        op_pairs,
    )
    report(
        'Op alone, forward + backward (grad for map and offsets)',
        run_rounds({n: op_fwd_bwd(f) for n, f in ops.items()}, args.repeat),
        op_pairs,
    )


if __name__ == '__main__':
    main()

"""Side-by-side benchmark of the compiled PSLA operator and its pure-PyTorch reference.

For each size it prints, for the compiled op (``mmpsla._ext``) and the reference: forward
time, forward+backward time, the peak extra memory of a forward and of a forward+backward
pass, and the ratios reference / compiled (time) and compiled / reference (memory).

* CPU memory is the peak resident-set growth of a fresh subprocess per measurement (the
  kernel's high-water mark is reset through /proc/self/clear_refs just before the pass,
  and glibc is told to return large blocks to the system at once), so it counts
  everything the pass allocates, torch included.
* CUDA memory is ``torch.cuda.max_memory_allocated`` above the inputs; CUDA also prints the
  achieved forward bandwidth against a DRAM bound computed from the bytes the forward
  must move (``--peak-bandwidth``, GB/s; default 3350 = H100 SXM).

Example::

    python benchmarks/bench_op.py --device cpu --repeat 5 --sizes paper large
"""

import argparse
import json
import os
import os.path as osp
import subprocess
import sys
import time

import torch

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from mmpsla.ops import (  # noqa: E402
    ext_available,
    psla_offsets,
    sparse_local_attention,
    sparse_local_attention_reference,
)

SIZES = {
    # name: (B, C, Cv, H, W) -- the paper's R-FCN res4 map of a 600x1000 frame, and 4 larger
    'paper': (1, 256, 1024, 38, 63),
    'large': (4, 256, 1024, 75, 125),
    'tiny': (1, 16, 32, 12, 20),
}
IMPLS = {'compiled': sparse_local_attention, 'reference': sparse_local_attention_reference}


def parse_size(text):
    if text in SIZES:
        return text, SIZES[text]
    try:
        dims = tuple(int(v) for v in text.split(','))
    except ValueError:
        dims = ()
    if len(dims) != 5:
        raise argparse.ArgumentTypeError(f'size must be one of {list(SIZES)} or B,C,Cv,H,W')
    return text, dims


def make_problem(dims, device, dtype, seed=0):
    b, c, cv, h, w = dims
    g = torch.Generator().manual_seed(seed)
    # 1/sqrt(C) keeps the affinities O(1), as for trained embeddings.
    q = (torch.randn(b, c, h, w, generator=g) / c**0.5).to(device, dtype)
    k = torch.randn(b, c, h, w, generator=g).to(device, dtype)
    v = torch.randn(b, cv, h, w, generator=g).to(device, dtype)
    grad = torch.randn(b, cv, h, w, generator=g).to(device, dtype)
    return q, k, v, grad


def run_pass(fn, q, k, v, grad, offsets, normalize, backward):
    if not backward:
        with torch.no_grad():
            return fn(q, k, v, offsets, normalize)
    q, k, v = (t.requires_grad_() for t in (q, k, v))
    out = fn(q, k, v, offsets, normalize)
    out.backward(grad)
    for t in (q, k, v):
        t.grad = None
    return None


def sync(device):
    if device == 'cuda':
        torch.cuda.synchronize()


def time_pass(fn, problem, offsets, args, backward):
    q, k, v, grad = problem
    run_pass(fn, q, k, v, grad, offsets, args.normalize, backward)  # warm-up
    times = []
    for _ in range(args.repeat):
        sync(args.device)
        t0 = time.perf_counter()
        run_pass(fn, q, k, v, grad, offsets, args.normalize, backward)
        sync(args.device)
        times.append(time.perf_counter() - t0)
    times.sort()
    return times[len(times) // 2] * 1e3  # median, ms


def _rss_kib():
    with open('/proc/self/status') as f:
        fields = dict(line.split(':', 1) for line in f)
    return int(fields['VmRSS'].split()[0]), int(fields['VmHWM'].split()[0])


def measure_memory_here(impl, dims, device, dtype, normalize, d, backward):
    """Peak extra memory (MiB) of one pass, measured in this (fresh) process."""
    fn, offsets = IMPLS[impl], psla_offsets(d)
    # warm up on a tiny problem: loads libraries, starts thread pools
    run_pass(fn, *make_problem(SIZES['tiny'], device, dtype), offsets, normalize, backward)
    problem = make_problem(dims, device, dtype)
    if device == 'cuda':
        torch.cuda.synchronize()
        base = torch.cuda.memory_allocated()
        torch.cuda.reset_peak_memory_stats()
        run_pass(fn, *problem, offsets, normalize, backward)
        torch.cuda.synchronize()
        return (torch.cuda.max_memory_allocated() - base) / 2**20
    with open('/proc/self/clear_refs', 'w') as f:
        f.write('5')  # reset the resident-set high-water mark
    base, _ = _rss_kib()
    run_pass(fn, *problem, offsets, normalize, backward)
    _, peak = _rss_kib()
    return (peak - base) / 2**10


def measure_memory(impl, dims, args, backward):
    if args.device == 'cuda':
        torch.cuda.empty_cache()
        return measure_memory_here(impl, dims, 'cuda', args.dtype, args.normalize, args.d, backward)
    env = dict(os.environ, MALLOC_MMAP_THRESHOLD_='65536', MALLOC_TRIM_THRESHOLD_='0')
    spec = dict(
        impl=impl,
        dims=dims,
        dtype=str(args.dtype),
        normalize=args.normalize,
        d=args.d,
        backward=backward,
        threads=torch.get_num_threads(),
    )
    proc = subprocess.run(
        [sys.executable, __file__, '--_memory-child', json.dumps(spec)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return float(proc.stdout.strip().splitlines()[-1])


def forward_bytes(dims, n, dtype):
    """Bytes the forward must move at least: read q, k, v; write out, weights, denom."""
    b, c, cv, h, w = dims
    item = torch.empty((), dtype=dtype).element_size()
    acc = 8 if dtype == torch.float64 else 4
    return b * h * w * ((2 * c + 2 * cv) * item + (n + 1) * acc)


def maybe_correlation_sampler(problem, args):
    """Affinity-only time of spatial-correlation-sampler (dense window), if it imports."""
    try:
        from spatial_correlation_sampler import spatial_correlation_sample
    except ImportError:
        return None
    q, k = problem[0], problem[1]
    fn = lambda: spatial_correlation_sample(q, k, 1, 2 * args.d + 1, 0, 1)  # noqa: E731
    fn()
    sync(args.device)
    t0 = time.perf_counter()
    for _ in range(args.repeat):
        fn()
    sync(args.device)
    return (time.perf_counter() - t0) / args.repeat * 1e3


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--device', choices=['cpu', 'cuda'], default='cpu')
    parser.add_argument('--repeat', type=int, default=5, help='timed runs (median reported)')
    parser.add_argument(
        '--sizes',
        nargs='+',
        type=parse_size,
        default=['paper', 'large'],
        help=f'{list(SIZES)} or B,C,Cv,H,W',
    )
    parser.add_argument('--d', type=int, default=4, help='max displacement (N = 1 + 8d)')
    parser.add_argument('--normalize', choices=['softmax', 'sum'], default='softmax')
    parser.add_argument(
        '--dtype', default='float32', choices=['float32', 'float64', 'float16', 'bfloat16']
    )
    parser.add_argument(
        '--peak-bandwidth',
        type=float,
        default=3350.0,
        help='DRAM bandwidth bound in GB/s (CUDA only; 3350 = H100 SXM)',
    )
    parser.add_argument('--threads', type=int, default=None, help='torch CPU threads')
    parser.add_argument('--no-memory', action='store_true', help='skip the memory columns')
    parser.add_argument('--_memory-child', help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    if args._memory_child:
        spec = json.loads(args._memory_child)
        torch.set_num_threads(spec['threads'])
        dtype = getattr(torch, spec['dtype'].split('.')[-1])
        print(
            measure_memory_here(
                spec['impl'],
                tuple(spec['dims']),
                'cpu',
                dtype,
                spec['normalize'],
                spec['d'],
                spec['backward'],
            )
        )
        return
    args.dtype = getattr(torch, args.dtype)
    args.sizes = [s if isinstance(s, tuple) else parse_size(s) for s in args.sizes]
    if args.device == 'cuda' and not torch.cuda.is_available():
        parser.error('--device cuda needs a CUDA device')
    if not ext_available():
        print('WARNING: mmpsla._ext is not built; "compiled" falls back to the reference')
    offsets = psla_offsets(args.d)
    where = (
        torch.cuda.get_device_name()
        if args.device == 'cuda'
        else f'CPU, {torch.get_num_threads()} threads'
    )
    print(
        f'PSLA op benchmark: {where}, torch {torch.__version__}, {args.dtype}, '
        f'normalize={args.normalize}, d={args.d} (N={len(offsets)}), '
        f'median of {args.repeat} runs'
    )
    header = (
        f'{"size (B,C,Cv,H,W)":<32}{"impl":<11}{"fwd ms":>10}{"fwd+bwd ms":>12}'
        f'{"fwd MiB":>10}{"fwd+bwd MiB":>13}'
    )
    print(header)
    print('-' * len(header))
    for name, dims in args.sizes:
        problem = make_problem(dims, args.device, args.dtype)
        row = {}
        for impl, fn in IMPLS.items():
            fwd = time_pass(fn, problem, offsets, args, backward=False)
            both = time_pass(fn, problem, offsets, args, backward=True)
            mem = (
                (None, None)
                if args.no_memory
                else tuple(measure_memory(impl, dims, args, backward) for backward in (False, True))
            )
            row[impl] = (fwd, both) + mem
            cells = ''.join(f'{v:>10.1f}' if v is not None else f'{"-":>10}' for v in mem)
            label = f'{name} {dims}' if impl == 'compiled' else ''
            print(f'{label:<32}{impl:<11}{fwd:>10.2f}{both:>12.2f}{cells[:10]}{cells[10:]:>13}')
        c, r = row['compiled'], row['reference']
        ratio = f'{"":<32}{"ratio":<11}{r[0] / c[0]:>9.1f}x{r[1] / c[1]:>11.1f}x'
        if not args.no_memory:
            ratio += f'{c[2] / r[2]:>10.2f}{c[3] / r[3]:>13.2f}'
        print(ratio + '   (time: reference/compiled, memory: compiled/reference)')
        if not args.no_memory:
            # what any implementation must hold: out, and for fwd+bwd also the 3 input grads
            item = torch.empty((), dtype=args.dtype).element_size()
            b, ch, cv, h, w = dims
            floor = (b * cv * h * w * item / 2**20, b * (2 * ch + 2 * cv) * h * w * item / 2**20)
            extra = [(x[2] - floor[0], x[3] - floor[1]) for x in (c, r)]
            print(
                f'{"":<32}{"scratch":<11}{"":>22}{extra[0][0]:>10.1f}{extra[0][1]:>13.1f}'
                f'   compiled, beyond out (+ grads): {floor[0]:.1f} / {floor[1]:.1f} MiB'
            )
            print(
                f'{"":<32}{"":<11}{"":>22}{extra[1][0]:>10.1f}{extra[1][1]:>13.1f}'
                '   reference, same'
            )
        if args.device == 'cuda':
            moved = forward_bytes(dims, len(offsets), args.dtype)
            achieved = moved / (c[0] * 1e-3) / 1e9
            print(
                f'{"":<32}forward moves >= {moved / 1e6:.1f} MB: {achieved:.0f} GB/s achieved, '
                f'DRAM bound {moved / (args.peak_bandwidth * 1e9) * 1e3:.3f} ms '
                f'({achieved / args.peak_bandwidth:.0%} of {args.peak_bandwidth:.0f} GB/s)'
            )
        sampler = maybe_correlation_sampler(problem, args)
        if sampler is not None:
            print(
                f'{"":<32}spatial-correlation-sampler affinity only (dense '
                f'{2 * args.d + 1}x{2 * args.d + 1}): {sampler:.2f} ms'
            )


if __name__ == '__main__':
    main()

"""Side-by-side benchmark of the compiled PSLA operator and its pure-PyTorch reference.

For each size and (CPU) thread count it prints, for the compiled op (``mmpsla._ext``) and
the reference, measured in one run with the runs interleaved: forward and forward+backward
time (median and best of ``--repeat``), the achieved GFLOP/s against the machine's measured
peak (a float32/float64 GEMM at the same thread count, timed here), the ratios
reference / compiled, and the peak extra memory of a forward and of a forward+backward pass.
A reference pass slower than 2 s is timed once. The machine may be shared: read the ratios,
which compare runs taken side by side, rather than the absolute times.

* FLOPs count the valid (pixel, offset) pairs: the forward does 2 N_valid (C + Cv) (the
  affinities and the aggregation), the backward twice that.

* CPU memory is the peak resident-set growth of a fresh subprocess per measurement (the
  kernel's high-water mark is reset through /proc/self/clear_refs just before the pass,
  and glibc is told to return large blocks to the system at once), so it counts
  everything the pass allocates, torch included.
* CUDA memory is ``torch.cuda.max_memory_allocated`` above the inputs; CUDA also prints the
  achieved forward bandwidth against a DRAM bound computed from the bytes the forward
  must move (``--peak-bandwidth``, GB/s; default 3350 = H100 SXM).

Example::

    python benchmarks/bench_op.py --device cpu --threads 1 2 --repeat 5 --sizes paper large
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
    """Times of one pass (ms): one if a pass takes over 2 s, else ``args.repeat`` after a
    warm-up."""
    q, k, v, grad = problem
    sync(args.device)
    t0 = time.perf_counter()
    run_pass(fn, q, k, v, grad, offsets, args.normalize, backward)
    sync(args.device)
    first = time.perf_counter() - t0
    if first > 2.0:
        return [first * 1e3]
    times = []
    for _ in range(args.repeat):
        sync(args.device)
        t0 = time.perf_counter()
        run_pass(fn, q, k, v, grad, offsets, args.normalize, backward)
        sync(args.device)
        times.append((time.perf_counter() - t0) * 1e3)
    return times


def median(times):
    return sorted(times)[len(times) // 2]


def gemm_peak(device, dtype, n=1536, repeat=5):
    """Measured matrix-multiply throughput (GFLOP/s): the machine's practical FMA peak."""
    a = torch.randn(n, n, device=device, dtype=dtype)
    b = torch.randn(n, n, device=device, dtype=dtype)
    a @ b
    best = float('inf')
    for _ in range(repeat):
        sync(device)
        t0 = time.perf_counter()
        a @ b
        sync(device)
        best = min(best, time.perf_counter() - t0)
    return 2 * n**3 / best / 1e9


def forward_flops(dims, offsets):
    """FLOPs of one forward: 2 (C + Cv) per valid (pixel, offset) pair."""
    b, c, cv, h, w = dims
    valid = sum(max(0, h - abs(dy)) * max(0, w - abs(dx)) for dy, dx in offsets.tolist())
    return 2 * b * valid * (c + cv)


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
    )
    if proc.returncode != 0:
        raise RuntimeError(f'memory measurement of {spec} failed:\n{proc.stderr[-2000:]}')
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


def measure_size(name, dims, offsets, args):
    """Times (and memory) of both implementations for one size at the current threads."""
    problem = make_problem(dims, args.device, args.dtype)
    times = {(impl, bwd): [] for impl in IMPLS for bwd in (False, True)}
    for backward in (False, True):  # interleaved: compiled, reference, compiled, ...
        for _ in range(1 if args.repeat == 1 else 2):
            for impl, fn in IMPLS.items():
                times[impl, backward] += time_pass(fn, problem, offsets, args, backward)
    return times


def print_size(name, dims, offsets, times, peak, args, mem):
    flops = forward_flops(dims, offsets)
    threads = f'{torch.get_num_threads()}' if args.device == 'cpu' else '-'
    row = {}
    for impl in IMPLS:
        fwd, both = times[impl, False], times[impl, True]
        row[impl] = (median(fwd), median(both))
        rate_f, rate_b = flops / median(fwd) / 1e6, 3 * flops / median(both) / 1e6
        cells = (
            f'{median(fwd):>9.2f} ({min(fwd):>8.2f}){median(both):>11.2f} ({min(both):>9.2f})'
            f'{rate_f:>9.1f}{rate_f / peak:>7.0%}{rate_b:>9.1f}{rate_b / peak:>7.0%}'
        )
        if mem is not None:
            cells += f'{mem[impl][0]:>9.1f}{mem[impl][1]:>9.1f}'
        label = f'{name} {dims}' if impl == 'compiled' else ''
        print(f'{label:<30}{threads:>4} {impl:<10}{cells}')
    c, r = row['compiled'], row['reference']
    line = f'{"":<30}{"":>4} {"ratio":<10}{r[0] / c[0]:>8.1f}x {"":>10}{r[1] / c[1]:>10.1f}x'
    print(line + '   (reference / compiled, medians)')
    if args.device == 'cuda':
        moved = forward_bytes(dims, len(offsets), args.dtype)
        achieved = moved / (c[0] * 1e-3) / 1e9
        print(
            f'{"":<35}forward moves >= {moved / 1e6:.1f} MB: {achieved:.0f} GB/s achieved, '
            f'DRAM bound {moved / (args.peak_bandwidth * 1e9) * 1e3:.3f} ms '
            f'({achieved / args.peak_bandwidth:.0%} of {args.peak_bandwidth:.0f} GB/s)'
        )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--device', choices=['cpu', 'cuda'], default='cpu')
    parser.add_argument('--repeat', type=int, default=5, help='timed runs per round (2 rounds)')
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
        help='DRAM bandwidth bound in GB/s (CUDA only; 3350 = H100 SXM, 4800 = H200)',
    )
    parser.add_argument(
        '--threads', type=int, nargs='+', default=[1, 2], help='torch CPU thread counts'
    )
    parser.add_argument('--no-memory', action='store_true', help='skip the memory columns')
    parser.add_argument('--_memory-child', help=argparse.SUPPRESS)
    args = parser.parse_args()
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
        parser.error('mmpsla._ext is not built or is stale: run `make ext` first')
    offsets = psla_offsets(args.d)
    where = torch.cuda.get_device_name() if args.device == 'cuda' else 'CPU'
    print(
        f'PSLA op benchmark: {where}, torch {torch.__version__}, {args.dtype}, '
        f'normalize={args.normalize}, d={args.d} (N={len(offsets)}); time: median (best) '
        f'of {2 * args.repeat} interleaved runs; GFLOP/s of the median; % of the GEMM peak '
        '(measured at the same thread count)'
    )
    header = (
        f'{"size (B,C,Cv,H,W)":<30}{"thr":>4} {"impl":<10}{"fwd ms":>9} {"(best)":>9}'
        f'{"f+b ms":>11} {"(best)":>10}{"fwd GF/s":>9}{"peak":>7}{"f+b GF/s":>9}{"peak":>7}'
    )
    if not args.no_memory:
        header += f'{"fwd MiB":>9}{"f+b MiB":>9}'
    thread_counts = args.threads if args.device == 'cpu' else [torch.get_num_threads()]
    # the GEMM peak is re-measured before every block and the best kept (shared machine)
    peaks = {}
    for threads in thread_counts:
        torch.set_num_threads(threads)
        peaks[threads] = gemm_peak(args.device, args.dtype)
    print(header)
    print('-' * len(header))
    for name, dims in args.sizes:
        mem = None
        if not args.no_memory:
            torch.set_num_threads(thread_counts[-1])
            mem = {
                impl: tuple(measure_memory(impl, dims, args, bwd) for bwd in (False, True))
                for impl in IMPLS
            }
        for threads in thread_counts:
            torch.set_num_threads(threads)
            peaks[threads] = max(peaks[threads], gemm_peak(args.device, args.dtype))
            times = measure_size(name, dims, offsets, args)
            print_size(name, dims, offsets, times, peaks[threads], args, mem)
            mem = None  # memory does not depend on the threads: printed once
        sampler = maybe_correlation_sampler(make_problem(dims, args.device, args.dtype), args)
        if sampler is not None:
            print(
                f'{"":<35}spatial-correlation-sampler affinity only (dense '
                f'{2 * args.d + 1}x{2 * args.d + 1}): {sampler:.2f} ms'
            )
    print(
        'measured GEMM peak (best of all blocks): '
        + ', '.join(f'{peaks[t]:.1f} GFLOP/s at {t} thread(s)' for t in thread_counts)
    )
    if not args.no_memory:
        print('memory: peak extra MiB of one pass (RSS growth in a fresh process on CPU)')


if __name__ == '__main__':
    main()

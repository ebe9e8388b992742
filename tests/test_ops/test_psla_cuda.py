"""CUDA kernels: a compile check of the kernel header (needs nvcc, no GPU) and runtime checks
against the reference (need a GPU). The same kernels run on the CPU on every CI run:
tests/test_ops/test_cuda_kernels_on_cpu.py."""

import os
import os.path as osp
import shutil
import subprocess

import pytest
import torch
from conftest import make_inputs

from mmpsla.ops import dense_offsets, psla_offsets, sparse_local_attention
from mmpsla.ops import sparse_local_attention_reference as reference

CSRC = osp.join(osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))), 'ops', 'csrc')

INSTANTIATIONS = r"""
#include "cuda/sparse_local_attention_kernel.cuh"

namespace mmpsla {
namespace cuda {
#define MMPSLA_INSTANTIATE(T)                                                                   \
  template __global__ void psla_fused_kernel<T, AccType<T>::type, false>(                      \
      FusedParams<T, AccType<T>::type>);                                                        \
  template __global__ void psla_fused_kernel<T, AccType<T>::type, true>(                       \
      FusedParams<T, AccType<T>::type>);                                                        \
  template __global__ void psla_transposed_kernel<T, AccType<T>::type>(                        \
      TransposedParams<T, AccType<T>::type>);
MMPSLA_INSTANTIATE(float)
MMPSLA_INSTANTIATE(double)
MMPSLA_INSTANTIATE(__half)
MMPSLA_INSTANTIATE(__nv_bfloat16)
}  // namespace cuda
}  // namespace mmpsla
"""
KERNELS = ('psla_fused_kernel', 'psla_transposed_kernel')
DTYPES = ('float', 'double', '__half', '__nv_bfloat16')


def _nvcc():
    cuda_home = os.environ.get('CUDA_HOME') or os.environ.get('CUDA_PATH') or '/usr/local/cuda'
    candidate = osp.join(cuda_home, 'bin', 'nvcc')
    return shutil.which('nvcc') or (candidate if osp.exists(candidate) else None)


def nvcc_symbols(tmp_path, source):
    """Compiles ``source`` (CUDA, ``-I ops/csrc``) for sm_90 with the half/bfloat16 flags of
    torch's CUDAExtension; returns the object's demangled symbols (skips without nvcc)."""
    nvcc = _nvcc()
    if nvcc is None:
        pytest.skip('nvcc not found (set CUDA_HOME or put nvcc on PATH)')
    src = tmp_path / 'instantiate.cu'
    src.write_text(source)
    obj = tmp_path / 'instantiate.o'
    cmd = [
        nvcc, '-arch=sm_90', '-std=c++17', '-O1', '-c', str(src), '-o', str(obj), f'-I{CSRC}',
        # the flags torch's CUDAExtension builds with: no implicit half/bfloat16 conversions
        '-D__CUDA_NO_HALF_OPERATORS__', '-D__CUDA_NO_HALF_CONVERSIONS__',
        '-D__CUDA_NO_BFLOAT16_CONVERSIONS__', '-D__CUDA_NO_HALF2_OPERATORS__',
    ]  # fmt: skip
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-4000:]
    assert obj.stat().st_size > 0
    return subprocess.run(['nm', '-C', str(obj)], capture_output=True, text=True).stdout


def test_kernel_header_compiles_for_all_dtypes(tmp_path):
    symbols = nvcc_symbols(tmp_path, INSTANTIATIONS)
    for name in KERNELS:
        for dtype in DTYPES:
            assert f'{name}<{dtype}' in symbols, f'{name}<{dtype}> not instantiated'
    for flag in ('false', 'true'):  # forward and backward variants of the fused kernel
        assert f'psla_fused_kernel<float, float, {flag}>' in symbols


needs_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason='needs a CUDA device')


def _compare(b, c, cv, h, w, offsets, normalize, dtype, tol):
    inputs = make_inputs(b, c, cv, h, w, dtype, non_negative=normalize == 'sum', device='cuda')
    grads = (
        torch.randn(b, cv, h, w, device='cuda', dtype=dtype),
        torch.randn(b, len(offsets), h, w, device='cuda', dtype=dtype),
    )
    results = []
    for fn, inp in ((sparse_local_attention, inputs), (reference, None)):
        if inp is None:  # reference in float64 as the ground truth
            inp = [t.detach().double().requires_grad_() for t in inputs]
        out, weights = fn(*inp, offsets, normalize, return_weights=True)
        loss = (out * grads[0].to(out)).sum() + (weights * grads[1].to(out)).sum()
        results.append([out, weights, *torch.autograd.grad(loss, inp)])
    for got, ref in zip(*results):
        assert got.dtype == dtype
        torch.testing.assert_close(got.double(), ref, **tol)


@pytest.mark.cuda
@needs_cuda
@pytest.mark.parametrize('normalize', ['softmax', 'sum'])
@pytest.mark.parametrize(
    'dtype, tol',
    [
        (torch.float64, dict(rtol=1e-10, atol=1e-10)),
        (torch.float32, dict(rtol=1e-4, atol=1e-4)),
        (torch.float16, dict(rtol=2e-2, atol=2e-2)),
        (torch.bfloat16, dict(rtol=5e-2, atol=8e-2)),
    ],
)
@pytest.mark.parametrize(
    'shape, offsets',
    [
        ((2, 5, 3, 7, 6), psla_offsets(2)),
        ((1, 3, 4, 3, 2), psla_offsets(4)),
        ((1, 8, 16, 9, 13), dense_offsets(2)),
    ],
)
def test_cuda_matches_reference(shape, offsets, dtype, tol, normalize):
    _compare(*shape, offsets, normalize, dtype, tol)


@pytest.mark.cuda
@needs_cuda
def test_cuda_gradcheck():
    inputs = make_inputs(1, 2, 3, 3, 4, device='cuda', seed=4)
    offsets = psla_offsets(1)
    assert torch.autograd.gradcheck(
        lambda q, k, v: sparse_local_attention(q, k, v, offsets, return_weights=True), inputs
    )


@pytest.mark.cuda
@needs_cuda
def test_cuda_uses_compiled_kernels_and_matches_cpu():
    import mmpsla.ops.psla_op as psla_op

    assert psla_op._ext is not None and psla_op._ext.has_cuda(), 'build with CUDA: make ext'
    q, k, v = make_inputs(2, 4, 5, 6, 7, torch.float32)
    cpu = sparse_local_attention(q, k, v, psla_offsets(2))
    gpu = sparse_local_attention(q.cuda(), k.cuda(), v.cuda(), psla_offsets(2).cuda())
    torch.testing.assert_close(gpu.cpu(), cpu, rtol=1e-5, atol=1e-5)

"""The CUDA kernels (ops/csrc/cuda/sparse_local_attention_kernel.cuh) run on the CPU.

``_ext._cuda_kernels_on_cpu_forward`` / ``_backward`` compile the kernel bodies with the host
compiler and run them over their whole launch grid (every block, every thread, the phases
between barriers in order, shared memory per block pre-filled with NaN), with the tile plan
and parameters the GPU launcher uses. So every kernel, dtype and normalisation is checked
against the reference here, without a GPU.
"""

import pytest
import torch
from conftest import make_inputs

import mmpsla.ops.psla_op as psla_op
from mmpsla.ops import dense_offsets, psla_offsets
from mmpsla.ops import sparse_local_attention_reference as reference
from mmpsla.ops.validation import NORMALIZE_MODES

# tolerance on max |error| / max |value|, against the float64 reference
TOL = {torch.float64: 1e-10, torch.float32: 1e-5, torch.float16: 2e-3, torch.bfloat16: 2e-2}
CASES = [
    # b, c, cv, h, w, offsets: tiles cut in x and y, channels not a multiple of the chunk
    pytest.param(2, 5, 3, 7, 6, psla_offsets(2), id='psla2-B2'),
    pytest.param(1, 3, 4, 3, 2, psla_offsets(4), id='map-smaller-than-window'),
    pytest.param(1, 9, 17, 11, 40, psla_offsets(4), id='psla4-two-tiles-wide'),
    pytest.param(1, 4, 7, 10, 9, dense_offsets(2), id='dense2'),
    pytest.param(1, 2, 3, 3, 50, torch.tensor([[0, 60], [1, 2], [-1, -3]]), id='far-offset'),
]


def _kernels_on_cpu(inputs, grads, offsets, mode, dtype):
    ext = psla_op._ext
    q, k, v = (t.detach().to(dtype) for t in inputs)
    out, weights, denom = ext._cuda_kernels_on_cpu_forward(q, k, v, offsets, mode)
    acc = torch.float64 if dtype == torch.float64 else torch.float32
    assert out.dtype == dtype and weights.dtype == acc and denom.dtype == acc
    grad_out, grad_weights = grads[0].to(dtype), grads[1].to(acc)
    grad_q, grad_k, grad_v = ext._cuda_kernels_on_cpu_backward(
        grad_out, grad_weights, q, k, v, offsets, weights, denom, mode
    )
    # the saved weights and grad_out in the storage dtype, as in the GPU autograd path
    return out, weights, grad_q, grad_k, grad_v


@pytest.mark.parametrize('normalize', ['softmax', 'sum'])
@pytest.mark.parametrize('dtype', list(TOL))
@pytest.mark.parametrize('b, c, cv, h, w, offsets', CASES)
def test_cuda_kernels_on_cpu_match_reference(
    require_ext, b, c, cv, h, w, offsets, normalize, dtype
):
    inputs = make_inputs(b, c, cv, h, w, torch.float64, non_negative=normalize == 'sum', seed=11)
    if dtype in (torch.float16, torch.bfloat16):  # round the inputs, so both see the same
        inputs = [t.detach().to(dtype).double().requires_grad_() for t in inputs]
    g = torch.Generator().manual_seed(3)
    grads = (
        torch.randn(b, cv, h, w, generator=g, dtype=torch.float64),
        torch.randn(b, len(offsets), h, w, generator=g, dtype=torch.float64),
    )
    if dtype in (torch.float16, torch.bfloat16):
        grads = (grads[0].to(dtype).double(), grads[1])
    out, weights = reference(*inputs, offsets, normalize, return_weights=True)
    loss = (out * grads[0]).sum() + (weights * grads[1]).sum()
    expected = (out, weights) + torch.autograd.grad(loss, inputs)
    mode = NORMALIZE_MODES[normalize]
    got = _kernels_on_cpu(inputs, grads, offsets, mode, dtype)
    for name, a, r in zip(('out', 'weights', 'grad_q', 'grad_k', 'grad_v'), got, expected):
        assert torch.isfinite(a).all(), name
        err = ((a.double() - r).abs().max() / r.abs().max()).item()
        assert err <= TOL[dtype], f'{name} ({dtype}): max error {err:.3g} of the largest value'


def test_cuda_kernels_on_cpu_without_grad_weights(require_ext):
    q, k, v = make_inputs(1, 3, 5, 6, 35, seed=4)
    offsets = psla_offsets(3)
    out, weights = reference(q, k, v, offsets, return_weights=True)
    grad = torch.randn_like(out)
    expected = torch.autograd.grad((out * grad).sum(), (q, k, v))
    ext = psla_op._ext
    _, w, d = ext._cuda_kernels_on_cpu_forward(q.detach(), k.detach(), v.detach(), offsets, 0)
    got = ext._cuda_kernels_on_cpu_backward(grad, None, q.detach(), k.detach(), v.detach(),
                                            offsets, w, d, 0)  # fmt: skip
    for a, r in zip(got, expected):
        torch.testing.assert_close(a, r, rtol=1e-10, atol=1e-10)


def test_cuda_kernels_on_cpu_check_arguments(require_ext):
    ext = psla_op._ext
    q, k, v = torch.randn(1, 3, 4, 5), torch.randn(1, 3, 4, 5), torch.randn(1, 2, 4, 5)
    with pytest.raises(RuntimeError, match='key must have the shape of query'):
        ext._cuda_kernels_on_cpu_forward(q, k[:, :2], v, psla_offsets(1), 0)
    with pytest.raises(RuntimeError, match='float32, float64, float16 or bfloat16'):
        ext._cuda_kernels_on_cpu_forward(q.int(), k.int(), v.int(), psla_offsets(1), 0)

"""The compiled deformable PS-RoI pooling op (ops/csrc/deform_ps_roi_pool*) against the
pure-PyTorch reference: values and gradients (map and offsets) in float64 on every device,
gradcheck, opcheck, float32, the CUDA kernels run on the CPU, an nvcc compile check of the
CUDA kernels, bad inputs and the loud-fallback rule. (The reference itself is checked against
a per-sample definition in tests/test_models/test_roi_heads/test_deform_ps_roi_pool.py.)"""

import os.path as osp

import pytest
import torch
from test_psla_cuda import CSRC, nvcc_symbols

import mmpsla.ops.deform_ps_roi_pool_op as op_module
import mmpsla.ops.psla_op as psla_op
from mmpsla.models.roi_heads import DeformPSRoIPool
from mmpsla.ops import deform_ps_roi_pool, deform_ps_roi_pool_reference

DEVICES = [
    'cpu',
    pytest.param(
        'cuda',
        marks=[
            pytest.mark.cuda,
            pytest.mark.skipif(not torch.cuda.is_available(), reason='needs a CUDA device'),
        ],
    ),
]
SCALE, TRANS_STD = 1 / 8, 0.1
# k, C, T (offset classes; None: no offsets), P, S
CASES = [
    pytest.param(3, 4, 2, 2, 2, id='k3-T2-P2'),
    pytest.param(7, 3, 3, 7, 4, id='k7-T=C-published'),
    pytest.param(7, 2, 1, 3, 2, id='k7-T1-P3'),
    pytest.param(3, 2, None, 3, 3, id='k3-no-offsets'),
]


def _inputs(k, c, t, part, dtype=torch.float64, seed=0, device='cpu'):
    """Map of 2 images, RoIs inside, across the border, tiny, and on image 1; offsets big
    enough to push samples off the map."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(2, k * k * c, 9, 11, generator=g, dtype=torch.float64)
    rois = torch.tensor(
        [
            [0, 3.0, 4.0, 70.0, 60.0],
            [1, -10.0, 5.0, 60.3, 90.0],  # partly outside the map
            [1, 20.0, 20.0, 22.0, 21.0],  # smaller than a feature pixel
            [0, 17.5, 33.2, 58.9, 41.7],
            [1, 60.0, -30.0, 120.0, 20.0],  # mostly outside
        ],
        dtype=torch.float64,
    )
    offsets = None
    if t is not None:
        offsets = torch.randn(5, 2 * t, part, part, generator=g, dtype=torch.float64) * 2
        offsets = offsets.to(device, dtype).requires_grad_()
    return x.to(device, dtype).requires_grad_(), rois.to(device, dtype), offsets


def _run(fn, x, rois, offsets, k, part, samples, grad):
    out = fn(x, rois, offsets, (k, k), SCALE, part, samples, TRANS_STD)
    leaves = [x] if offsets is None else [x, offsets]
    return [out, *torch.autograd.grad((out * grad).sum(), leaves)]


@pytest.mark.parametrize('device', DEVICES)
@pytest.mark.parametrize('k, c, t, part, samples', CASES)
def test_matches_reference_float64(require_ext, device, k, c, t, part, samples):
    x, rois, offsets = _inputs(k, c, t, part, device=device)
    grad = torch.randn(5, c, k, k, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    grad = grad.to(device)
    got = _run(deform_ps_roi_pool, x, rois, offsets, k, part, samples, grad)
    ref = _run(deform_ps_roi_pool_reference, x, rois, offsets, k, part, samples, grad)
    assert got[0].shape == (5, c, k, k)
    assert (got[0] == 0).any() and (got[0] != 0).sum() > got[0].numel() // 2  # empty bins too
    for name, a, r in zip(('out', 'grad_x', 'grad_offsets'), got, ref):
        assert a.abs().sum() > 0, name
        torch.testing.assert_close(a, r, rtol=1e-10, atol=1e-12, msg=name)


@pytest.mark.parametrize('device', DEVICES)
def test_float32_close_to_float64_reference(require_ext, device):
    x, rois, offsets = _inputs(7, 3, 3, 7)
    grad = torch.randn(5, 3, 7, 7, dtype=torch.float64)
    ref = _run(deform_ps_roi_pool_reference, x, rois, offsets, 7, 7, 4, grad)
    x32, off32 = (t.detach().to(device, torch.float32).requires_grad_() for t in (x, offsets))
    got = _run(deform_ps_roi_pool, x32, rois.to(device).float(), off32, 7, 7, 4, grad.to(x32))
    for a, r in zip(got, ref):
        assert a.dtype == torch.float32
        torch.testing.assert_close(a.double().cpu(), r, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize('device', DEVICES)
def test_empty_roi_list(require_ext, device):
    x, rois, offsets = _inputs(3, 2, 1, 3, device=device)
    out = deform_ps_roi_pool(x, rois[:0], offsets[:0], 3, SCALE, 3, 2, TRANS_STD)
    assert out.shape == (0, 2, 3, 3)
    out.sum().backward()
    assert torch.equal(x.grad, torch.zeros_like(x))


def test_gradcheck(require_ext):
    x, rois, offsets = _inputs(2, 2, 2, 2, seed=3)
    x = x.detach()[:, :, :6, :7].contiguous().requires_grad_()  # fewer numerical columns
    assert torch.autograd.gradcheck(
        lambda x, o: deform_ps_roi_pool(x, rois, o, 2, SCALE, 2, 2, TRANS_STD), (x, offsets)
    )
    assert torch.autograd.gradcheck(
        lambda x: deform_ps_roi_pool(x, rois, None, 2, SCALE, 2, 2, TRANS_STD), (x,)
    )


@pytest.mark.parametrize('with_offsets', [True, False])
def test_custom_op_passes_opcheck(require_ext, with_offsets):
    x, rois, offsets = _inputs(3, 2, 2, 3, seed=5)
    torch.library.opcheck(
        torch.ops.mmpsla.deform_ps_roi_pool_forward.default,
        (x, rois, offsets if with_offsets else None, 3, 3, SCALE, 3, 2, TRANS_STD),
        test_utils=('test_schema', 'test_autograd_registration', 'test_faketensor'),
    )


# tolerance on max |error| / max |value|, against the float64 reference
KERNEL_TOL = {torch.float64: 1e-12, torch.float32: 1e-5, torch.float16: 2e-3, torch.bfloat16: 2e-2}


@pytest.mark.parametrize('dtype', list(KERNEL_TOL))
@pytest.mark.parametrize('k, c, t, part, samples', CASES)
def test_cuda_kernels_on_cpu_match_reference(require_ext, k, c, t, part, samples, dtype):
    """The CUDA kernels' bodies, run over their launch grid on the CPU (common.cuh HostGrid;
    the backward's atomicAdds become plain adds), against the reference."""
    x, rois, offsets = _inputs(k, c, t, part, seed=7)
    if dtype in (torch.float16, torch.bfloat16):  # round the inputs, so both see the same
        x = x.detach().to(dtype).double().requires_grad_()
        offsets = None if offsets is None else offsets.detach().to(dtype).double().requires_grad_()
    grad = torch.randn(5, c, k, k, dtype=torch.float64).to(dtype).double()
    ref = _run(deform_ps_roi_pool_reference, x, rois, offsets, k, part, samples, grad)
    ext = psla_op._ext
    args = (k, k, SCALE, part, samples, TRANS_STD)
    off = None if offsets is None else offsets.detach().to(dtype)
    out = ext._cuda_kernels_on_cpu_deform_ps_roi_pool_forward(x.detach().to(dtype), rois, off,
                                                              *args)  # fmt: skip
    grads = ext._cuda_kernels_on_cpu_deform_ps_roi_pool_backward(
        grad.to(dtype), x.detach().to(dtype), rois, off, *args
    )
    got = [out, grads[0]] + ([] if offsets is None else [grads[1]])
    assert grads[1] is None if offsets is None else grads[1].dtype == dtype
    for name, a, r in zip(('out', 'grad_x', 'grad_offsets'), got, ref):
        assert a.dtype == dtype and torch.isfinite(a).all(), name
        err = ((a.double() - r).abs().max() / r.abs().max()).item()
        assert err <= KERNEL_TOL[dtype], f'{name} ({dtype}): max error {err:.3g}'


KERNEL_INSTANTIATIONS = r"""
#include "cuda/deform_ps_roi_pool_kernel.cuh"

namespace mmpsla {
namespace cuda {
#define MMPSLA_INSTANTIATE(T)                                                              \
  template __global__ void deform_ps_roi_pool_forward_kernel<T, AccType<T>::type>(        \
      DeformPSRoIParams<T, AccType<T>::type>, T*);                                         \
  template __global__ void deform_ps_roi_pool_backward_kernel<T, AccType<T>::type>(       \
      DeformPSRoIParams<T, AccType<T>::type>, const T*, AccType<T>::type*,                 \
      AccType<T>::type*);
MMPSLA_INSTANTIATE(float)
MMPSLA_INSTANTIATE(double)
MMPSLA_INSTANTIATE(__half)
MMPSLA_INSTANTIATE(__nv_bfloat16)
}  // namespace cuda
}  // namespace mmpsla
"""


def test_cuda_kernels_compile_for_all_dtypes(tmp_path):
    symbols = nvcc_symbols(tmp_path, KERNEL_INSTANTIATIONS)
    for name in ('deform_ps_roi_pool_forward_kernel', 'deform_ps_roi_pool_backward_kernel'):
        for dtype in ('float', 'double', '__half', '__nv_bfloat16'):
            assert f'{name}<{dtype}' in symbols, f'{name}<{dtype}> not instantiated'
    assert osp.isfile(osp.join(CSRC, 'cuda', 'deform_ps_roi_pool_cuda.cu'))


def test_bad_inputs_name_the_argument(require_ext):
    x, rois, offsets = _inputs(3, 2, 2, 3)
    x, offsets = x.detach(), offsets.detach()

    def call(x=x, rois=rois, offsets=offsets, size=3, part=3, samples=2):
        return deform_ps_roi_pool(x, rois, offsets, size, SCALE, part, samples, TRANS_STD)

    cases = [
        (dict(x=x[0]), 'x must be'),
        (dict(x=x.half()), 'x must be one of'),
        (dict(x=x[:, :17]), 'x has 17 channels'),
        (dict(rois=rois[:, :4]), 'rois must be'),
        (dict(rois=rois.long()), 'rois must be a floating-point'),
        (dict(rois=torch.cat([rois[:1] + torch.tensor([2.0, 0, 0, 0, 0]), rois[1:]])), 'batch'),
        (dict(offsets=offsets[:, :, :2]), 'offsets must be'),
        (dict(offsets=offsets[:4]), 'offsets must be'),
        (dict(offsets=offsets[:, :3]), 'offsets have 3 channels'),
        (dict(offsets=offsets.float()), 'offsets must have the dtype'),
        (dict(samples=0), 'sample_per_part'),
        (dict(part=0), 'part_size'),
    ]
    for kwargs, match in cases:
        with pytest.raises(ValueError, match=match):
            call(**kwargs)
    with pytest.raises(
        RuntimeError, match='offsets must have shape'
    ):  # the C++ checks guard direct calls
        psla_op._ext.deform_ps_roi_pool_forward(x, rois, offsets, 3, 3, SCALE, 2, 2, 0.1)


def test_module_runs_the_compiled_op(require_ext, monkeypatch):
    def forbidden(*args):
        raise AssertionError('the reference ran')

    monkeypatch.setattr(op_module, 'deform_ps_roi_pool_reference', forbidden)
    x, rois, offsets = _inputs(3, 2, 2, 3)
    out = DeformPSRoIPool(3, SCALE, sample_per_part=2)(x, rois, offsets)
    ref = deform_ps_roi_pool_reference(x, rois, offsets, (3, 3), SCALE, 3, 2, TRANS_STD)
    torch.testing.assert_close(out, ref, rtol=1e-10, atol=1e-12)


def test_missing_extension_raises_unless_the_reference_is_allowed(monkeypatch):
    monkeypatch.setattr(psla_op, '_ext', None)
    monkeypatch.setattr(psla_op, '_warned', set())
    monkeypatch.delenv(psla_op.ALLOW_REFERENCE_ENV, raising=False)
    x, rois, offsets = _inputs(3, 2, 2, 3)
    with pytest.raises(RuntimeError, match='MMPSLA_ALLOW_REFERENCE_OP=1'):
        deform_ps_roi_pool(x, rois, offsets, 3, SCALE, 3, 2)
    monkeypatch.setenv(psla_op.ALLOW_REFERENCE_ENV, '1')
    with pytest.warns(RuntimeWarning, match='pure-PyTorch reference'):
        out = deform_ps_roi_pool(x, rois, offsets, 3, SCALE, 3, 2)
    ref = deform_ps_roi_pool_reference(x, rois, offsets, (3, 3), SCALE, 3, 2, TRANS_STD)
    torch.testing.assert_close(out, ref, rtol=0, atol=0)


def test_torch_compile_matches_eager(require_ext):
    """Dynamo + AOTAutograd capture the op through its fake and autograd registrations."""
    torch._dynamo.reset()
    pool = DeformPSRoIPool(3, SCALE, sample_per_part=2)
    x, rois, offsets = _inputs(3, 2, 2, 3, seed=9)

    def fn(x, o):
        return pool(x, rois, o).square()

    results = []
    for f in (fn, torch.compile(fn, backend='aot_eager')):
        out = f(x, offsets)
        results.append([out, *torch.autograd.grad(out.sum(), (x, offsets))])
    for a, b in zip(*results):
        torch.testing.assert_close(b, a, rtol=1e-12, atol=1e-12)
    torch._dynamo.reset()

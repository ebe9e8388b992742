// Torch launcher of the PSLA CUDA kernels (compiled only when building with CUDA).
#include <ATen/ATen.h>
#include <ATen/Dispatch.h>
#include <c10/cuda/CUDAStream.h>
#include <c10/cuda/CUDAException.h>
#include <c10/cuda/CUDAGuard.h>

#include "cuda/sparse_local_attention_kernel.cuh"
#include "sparse_local_attention.h"

namespace mmpsla {
namespace {

template <typename scalar_t>
struct CudaType {
  using type = scalar_t;
};
template <>
struct CudaType<at::Half> {
  using type = __half;
};
template <>
struct CudaType<at::BFloat16> {
  using type = __nv_bfloat16;
};

at::ScalarType acc_dtype(at::ScalarType t) {
  return t == at::kDouble ? at::kDouble : at::kFloat;
}

void check_cuda(const at::Tensor& t, const char* name) {
  TORCH_CHECK(t.is_cuda(), "psla (CUDA): ", name, " must be a CUDA tensor, got ", t.device());
  const auto s = t.scalar_type();
  TORCH_CHECK(s == at::kFloat || s == at::kDouble || s == at::kHalf || s == at::kBFloat16,
              "psla (CUDA): ", name, " must be float32, float64, float16 or bfloat16, got ", s);
  TORCH_CHECK(t.numel() < (int64_t(1) << 31) * 64, "psla (CUDA): ", name, " is too large");
}

// (N, 2) int32 offsets on the device of `like` (validated on the host first).
at::Tensor device_offsets(const at::Tensor& offsets, const at::Tensor& like) {
  const auto host = offsets_to_host(offsets);
  at::Tensor flat = at::empty({static_cast<int64_t>(host.size()), 2}, at::kInt);
  int* d = flat.data_ptr<int>();
  for (size_t i = 0; i < host.size(); ++i) {
    d[2 * i] = host[i].first;
    d[2 * i + 1] = host[i].second;
  }
  return flat.to(like.device(), /*non_blocking=*/false);
}

}  // namespace

std::vector<at::Tensor> psla_forward_cuda(const at::Tensor& query_in, const at::Tensor& key_in,
                                          const at::Tensor& value_in, const at::Tensor& offsets,
                                          int64_t normalize) {
  check_forward_inputs(query_in, key_in, value_in, offsets, normalize);
  check_cuda(query_in, "query");
  const c10::cuda::CUDAGuard guard(query_in.device());
  const at::Tensor query = query_in.contiguous(), key = key_in.contiguous(),
                   value = value_in.contiguous();
  const at::Tensor offs = device_offsets(offsets, query);
  const int64_t B = query.size(0), C = query.size(1), Cv = value.size(1), H = query.size(2),
                W = query.size(3), N = offs.size(0);
  const auto acc = query.options().dtype(acc_dtype(query.scalar_type()));
  at::Tensor out = at::empty({B, Cv, H, W}, value.options());
  at::Tensor weights = at::empty({B, N, H, W}, acc);
  at::Tensor denom = at::empty({B, H, W}, acc);
  if (out.numel() == 0 || weights.numel() == 0) {
    return {out.zero_(), weights.zero_(), denom.zero_()};
  }
  cudaStream_t stream = c10::cuda::getCurrentCUDAStream();
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, query.scalar_type(),
                                  "psla_forward_cuda", [&] {
    using T = typename CudaType<scalar_t>::type;
    using A = typename cuda::AccType<T>::type;
    const T* q = reinterpret_cast<const T*>(query.data_ptr<scalar_t>());
    const T* k = reinterpret_cast<const T*>(key.data_ptr<scalar_t>());
    const T* v = reinterpret_cast<const T*>(value.data_ptr<scalar_t>());
    T* o = reinterpret_cast<T*>(out.data_ptr<scalar_t>());
    A* w = weights.data_ptr<A>();
    A* d = denom.data_ptr<A>();
    const int* off = offs.data_ptr<int>();
    cuda::psla_correlate_kernel<T, A>
        <<<cuda::psla_blocks(B * N * H * W), cuda::kThreads, 0, stream>>>(
            q, k, nullptr, w, off, B, C, H, W, N);
    C10_CUDA_KERNEL_LAUNCH_CHECK();
    cuda::psla_normalize_kernel<A><<<cuda::psla_blocks(B * H * W), cuda::kThreads, 0, stream>>>(
        w, d, off, B, H, W, N, static_cast<int>(normalize));
    C10_CUDA_KERNEL_LAUNCH_CHECK();
    cuda::psla_aggregate_kernel<T, A, false>
        <<<cuda::psla_blocks(B * Cv * H * W), cuda::kThreads, 0, stream>>>(w, v, o, off, B, Cv,
                                                                           H, W, N);
    C10_CUDA_KERNEL_LAUNCH_CHECK();
  });
  return {out, weights, denom};
}

std::vector<at::Tensor> psla_backward_cuda(const at::Tensor& grad_out_in,
                                           const std::optional<at::Tensor>& grad_weights_in,
                                           const at::Tensor& query_in, const at::Tensor& key_in,
                                           const at::Tensor& value_in, const at::Tensor& offsets,
                                           const at::Tensor& weights_in,
                                           const at::Tensor& denom_in, int64_t normalize) {
  check_forward_inputs(query_in, key_in, value_in, offsets, normalize);
  check_cuda(query_in, "query");
  const c10::cuda::CUDAGuard guard(query_in.device());
  const at::Tensor query = query_in.contiguous(), key = key_in.contiguous(),
                   value = value_in.contiguous();
  const at::Tensor offs = device_offsets(offsets, query);
  const int64_t B = query.size(0), C = query.size(1), Cv = value.size(1), H = query.size(2),
                W = query.size(3), N = offs.size(0);
  TORCH_CHECK(grad_out_in.sizes() == value.sizes(), "psla backward: grad_out must have shape ",
              value.sizes(), ", got ", grad_out_in.sizes());
  TORCH_CHECK(weights_in.sizes() == at::IntArrayRef({B, N, H, W}),
              "psla backward: weights must have shape (B, N, H, W)");
  TORCH_CHECK(denom_in.sizes() == at::IntArrayRef({B, H, W}),
              "psla backward: denom must have shape (B, H, W)");
  const auto acc_type = acc_dtype(query.scalar_type());
  const at::Tensor grad_out = grad_out_in.to(query.scalar_type()).contiguous();
  const at::Tensor weights = weights_in.to(acc_type).contiguous();
  const at::Tensor denom = denom_in.to(acc_type).contiguous();
  at::Tensor grad_weights;
  if (grad_weights_in.has_value() && grad_weights_in->defined()) {
    TORCH_CHECK(grad_weights_in->sizes() == weights.sizes(),
                "psla backward: grad_weights must have shape (B, N, H, W)");
    grad_weights = grad_weights_in->to(acc_type).contiguous();
  }
  at::Tensor grad_query = at::empty_like(query);
  at::Tensor grad_key = at::empty_like(key);
  at::Tensor grad_value = at::empty_like(value);
  if (weights.numel() == 0 || value.numel() == 0) {
    return {grad_query.zero_(), grad_key.zero_(), grad_value.zero_()};
  }
  at::Tensor dc = at::empty_like(weights);
  cudaStream_t stream = c10::cuda::getCurrentCUDAStream();
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, query.scalar_type(),
                                  "psla_backward_cuda", [&] {
    using T = typename CudaType<scalar_t>::type;
    using A = typename cuda::AccType<T>::type;
    const T* q = reinterpret_cast<const T*>(query.data_ptr<scalar_t>());
    const T* k = reinterpret_cast<const T*>(key.data_ptr<scalar_t>());
    const T* v = reinterpret_cast<const T*>(value.data_ptr<scalar_t>());
    const T* go = reinterpret_cast<const T*>(grad_out.data_ptr<scalar_t>());
    T* gq = reinterpret_cast<T*>(grad_query.data_ptr<scalar_t>());
    T* gk = reinterpret_cast<T*>(grad_key.data_ptr<scalar_t>());
    T* gv = reinterpret_cast<T*>(grad_value.data_ptr<scalar_t>());
    const A* w = weights.data_ptr<A>();
    const A* d = denom.data_ptr<A>();
    const A* gw = grad_weights.defined() ? grad_weights.data_ptr<A>() : nullptr;
    A* g = dc.data_ptr<A>();
    const int* off = offs.data_ptr<int>();
    cuda::psla_correlate_kernel<T, A>
        <<<cuda::psla_blocks(B * N * H * W), cuda::kThreads, 0, stream>>>(
            go, v, gw, g, off, B, Cv, H, W, N);
    C10_CUDA_KERNEL_LAUNCH_CHECK();
    cuda::psla_normalize_backward_kernel<A>
        <<<cuda::psla_blocks(B * H * W), cuda::kThreads, 0, stream>>>(
            g, w, d, off, B, H, W, N, static_cast<int>(normalize));
    C10_CUDA_KERNEL_LAUNCH_CHECK();
    cuda::psla_aggregate_kernel<T, A, false>
        <<<cuda::psla_blocks(B * C * H * W), cuda::kThreads, 0, stream>>>(g, k, gq, off, B, C,
                                                                          H, W, N);
    C10_CUDA_KERNEL_LAUNCH_CHECK();
    cuda::psla_aggregate_kernel<T, A, true>
        <<<cuda::psla_blocks(B * C * H * W), cuda::kThreads, 0, stream>>>(g, q, gk, off, B, C,
                                                                          H, W, N);
    C10_CUDA_KERNEL_LAUNCH_CHECK();
    cuda::psla_aggregate_kernel<T, A, true>
        <<<cuda::psla_blocks(B * Cv * H * W), cuda::kThreads, 0, stream>>>(w, go, gv, off, B,
                                                                           Cv, H, W, N);
    C10_CUDA_KERNEL_LAUNCH_CHECK();
  });
  return {grad_query, grad_key, grad_value};
}

}  // namespace mmpsla

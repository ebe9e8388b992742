// Launch logic of the PSLA CUDA kernels, shared by the CUDA launcher (sparse_local_attention_
// cuda.cu, nvcc) and the CPU runner of the same kernels (cpu/cuda_kernels_on_cpu.cpp, host
// compiler): tensors, tile plan and kernel parameters are built here once; a `Launcher`
// runs the kernels, on the GPU (<<<...>>>) or on the CPU (HostGrid).
//   Launcher::smem_limit()                      shared memory per block the plan may use
//   Launcher::target_blocks()                   blocks wanted to fill the device
//   Launcher::fused<T, A, kBackward>(plan, p)   psla_fused_kernel
//   Launcher::transposed<T, A>(p, total)        psla_transposed_kernel over `total` outputs
// T is the storage type seen by the kernels (S = the torch scalar type, reinterpreted).
#pragma once

#include "cuda/sparse_local_attention_kernel.cuh"
#include "sparse_local_attention.h"

namespace mmpsla {
namespace cuda {

inline at::ScalarType acc_dtype(at::ScalarType t) {
  return t == at::kDouble ? at::kDouble : at::kFloat;
}

inline std::vector<int> flat_offsets(const Offsets& offs) {
  std::vector<int> flat;
  for (const auto& o : offs) {
    flat.push_back(o.first);
    flat.push_back(o.second);
  }
  return flat;
}

// (N, 2) int32 offsets on `device`.
inline at::Tensor offsets_on(const std::vector<int>& flat, const at::Device& device) {
  at::Tensor t = at::empty({static_cast<int64_t>(flat.size() / 2), 2}, at::kInt);
  std::copy(flat.begin(), flat.end(), t.data_ptr<int>());
  return t.to(device);
}

template <typename T, typename S>
T* ptr(const at::Tensor& t) {
  return reinterpret_cast<T*>(t.data_ptr<S>());
}

// Offsets on the device, tile plan and the kernel parameters common to both directions.
template <typename T, typename A>
struct FusedLaunch {
  at::Tensor offsets;  // (N, 2) int32 on the inputs' device
  FusedPlan plan;
  FusedParams<T, A> params;
};

template <typename T, typename A, class Launcher>
FusedLaunch<T, A> prepare_fused(const Offsets& offs, const at::Tensor& like, int Cs,
                                int64_t normalize, const Launcher& launch) {
  const int N = static_cast<int>(offs.size()), B = static_cast<int>(like.size(0)),
            H = static_cast<int>(like.size(2)), W = static_cast<int>(like.size(3));
  const std::vector<int> flat = flat_offsets(offs);
  FusedLaunch<T, A> f;
  f.offsets = offsets_on(flat, like.device());
  f.plan = plan_fused(flat.data(), N, B, H, W, Cs, sizeof(A), launch.smem_limit(),
                      launch.target_blocks());
  TORCH_CHECK(f.plan.smem_bytes <= launch.smem_limit(), "psla (CUDA): ", N,
              " offsets need ", f.plan.smem_bytes, " bytes of shared memory per block, more than ",
              launch.smem_limit(), "; use fewer offsets");
  FusedParams<T, A>& p = f.params;
  p = FusedParams<T, A>{};
  p.offsets = f.offsets.template data_ptr<int>();
  p.N = N;
  p.B = B;
  p.H = H;
  p.W = W;
  p.mode = static_cast<int>(normalize);
  set_plan(p, f.plan);
  return f;
}

// Returns {out, weights, denom}; inputs validated by the dispatcher (bindings.cpp).
template <typename S, typename T, class Launcher>
std::vector<at::Tensor> run_forward(const at::Tensor& query_in, const at::Tensor& key_in,
                                    const at::Tensor& value_in, const Offsets& offs,
                                    int64_t normalize, Launcher& launch) {
  using A = typename AccType<T>::type;
  const at::Tensor query = query_in.contiguous(), key = key_in.contiguous(),
                   value = value_in.contiguous();
  const int B = static_cast<int>(query.size(0)), C = static_cast<int>(query.size(1)),
            Cv = static_cast<int>(value.size(1)), H = static_cast<int>(query.size(2)),
            W = static_cast<int>(query.size(3)), N = static_cast<int>(offs.size());
  const auto acc = query.options().dtype(acc_dtype(query.scalar_type()));
  at::Tensor out = at::empty({B, Cv, H, W}, value.options());
  at::Tensor weights = at::empty({B, N, H, W}, acc);
  at::Tensor denom = at::empty({B, H, W}, acc);
  if (out.numel() == 0 || weights.numel() == 0) {
    return {out.zero_(), weights.zero_(), denom.zero_()};
  }
  FusedLaunch<T, A> f = prepare_fused<T, A>(offs, query, Cv, normalize, launch);
  FusedParams<T, A>& p = f.params;
  p.a = ptr<T, S>(query);
  p.b = ptr<T, S>(key);
  p.Ca = C;
  p.s = ptr<T, S>(value);
  p.out = ptr<T, S>(out);
  p.Cs = Cv;
  p.weights = weights.data_ptr<A>();
  p.denom = denom.data_ptr<A>();
  launch.template fused<T, A, false>(f.plan, p);
  return {out, weights, denom};
}

// Returns {grad_query, grad_key, grad_value}; grad_weights may be undefined.
template <typename S, typename T, class Launcher>
std::vector<at::Tensor> run_backward(const at::Tensor& grad_out_in, const at::Tensor& grad_weights_in,
                                     const at::Tensor& query_in, const at::Tensor& key_in,
                                     const at::Tensor& value_in, const Offsets& offs,
                                     const at::Tensor& weights_in, const at::Tensor& denom_in,
                                     int64_t normalize, Launcher& launch) {
  using A = typename AccType<T>::type;
  const at::Tensor query = query_in.contiguous(), key = key_in.contiguous(),
                   value = value_in.contiguous();
  const auto acc_type = acc_dtype(query.scalar_type());
  const at::Tensor grad_out = grad_out_in.to(query.scalar_type()).contiguous();
  const at::Tensor weights = weights_in.to(acc_type).contiguous();
  const at::Tensor denom = denom_in.to(acc_type).contiguous();
  const at::Tensor grad_weights =
      grad_weights_in.defined() ? grad_weights_in.to(acc_type).contiguous() : grad_weights_in;
  const int B = static_cast<int>(query.size(0)), C = static_cast<int>(query.size(1)),
            Cv = static_cast<int>(value.size(1)), H = static_cast<int>(query.size(2)),
            W = static_cast<int>(query.size(3)), N = static_cast<int>(offs.size());
  at::Tensor grad_query = at::empty_like(query);
  at::Tensor grad_key = at::empty_like(key);
  at::Tensor grad_value = at::empty_like(value);
  if (weights.numel() == 0 || value.numel() == 0) {
    return {grad_query.zero_(), grad_key.zero_(), grad_value.zero_()};
  }
  at::Tensor dc = at::empty_like(weights);
  // dc and grad_query in one pass: logits from <grad_out, value>, aggregation over key
  FusedLaunch<T, A> f = prepare_fused<T, A>(offs, query, C, normalize, launch);
  FusedParams<T, A>& p = f.params;
  p.a = ptr<T, S>(grad_out);
  p.b = ptr<T, S>(value);
  p.Ca = Cv;
  p.s = ptr<T, S>(key);
  p.out = ptr<T, S>(grad_query);
  p.Cs = C;
  p.saved_weights = weights.data_ptr<A>();
  p.saved_denom = denom.data_ptr<A>();
  p.grad_weights = grad_weights.defined() ? grad_weights.data_ptr<A>() : nullptr;
  p.dc = dc.data_ptr<A>();
  launch.template fused<T, A, true>(f.plan, p);
  // grad_key = transposed(dc, query), grad_value = transposed(weights, grad_out)
  const int* off = p.offsets;
  const int64_t HW = static_cast<int64_t>(H) * W;
  launch.template transposed<T, A>(
      TransposedParams<T, A>{dc.data_ptr<A>(), ptr<T, S>(query), ptr<T, S>(grad_key), off, B, C,
                             H, W, N},
      static_cast<int64_t>(B) * C * HW);
  launch.template transposed<T, A>(
      TransposedParams<T, A>{weights.data_ptr<A>(), ptr<T, S>(grad_out), ptr<T, S>(grad_value),
                             off, B, Cv, H, W, N},
      static_cast<int64_t>(B) * Cv * HW);
  return {grad_query, grad_key, grad_value};
}

}  // namespace cuda
}  // namespace mmpsla

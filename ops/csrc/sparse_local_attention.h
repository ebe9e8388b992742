// Progressive Sparse Local Attention (PSLA) operator: declarations shared by the
// CPU and CUDA implementations and by the Python bindings.
//
// Shapes (all tensors contiguous NCHW):
//   query, key : (B, C, H, W)      value, out : (B, Cv, H, W)
//   offsets    : (N, 2) int64, (dy, dx) per row
//   weights    : (B, N, H, W)      denom : (B, H, W)
// weights and denom use the accumulation dtype: float64 for float64 inputs, float32
// otherwise (so float16 / bfloat16 inputs keep float32 weights for the backward pass).
//
// Semantics, for every pixel p and offset o with p + o inside the map ("valid"):
//   c_o(p) = <query(p), key(p + o)>
//   softmax (mode 0): w_o(p) = exp(c_o - max_valid c) / sum_valid exp(c - max_valid c)
//   sum     (mode 1): w_o(p) = c_o / (sum_valid c + 1e-6)
//   out(p) = sum_valid w_o(p) value(p + o)
// Invalid offsets get weight 0; a pixel without a valid offset gets out = 0.
// denom holds, per pixel, the softmax partition function (mode 0) or the sum
// normaliser sum_valid c + 1e-6 (mode 1); the backward pass of mode 1 needs it.
#pragma once

#include <torch/extension.h>

#include <string>
#include <utility>
#include <vector>

namespace mmpsla {

enum class Normalize : int64_t { kSoftmax = 0, kSum = 1 };

constexpr double kSumEps = 1e-6;

using Offsets = std::vector<std::pair<int, int>>;

// The launchers below take inputs already validated by the dispatcher in bindings.cpp (the
// one place in C++ where the operator's arguments are checked) and offsets as host (dy, dx)
// pairs. grad_weights may be an undefined tensor.

// Returns {out, weights, denom}.
std::vector<at::Tensor> psla_forward_cpu(const at::Tensor& query, const at::Tensor& key,
                                         const at::Tensor& value, const Offsets& offsets,
                                         int64_t normalize);

// Returns {grad_query, grad_key, grad_value}.
std::vector<at::Tensor> psla_backward_cpu(const at::Tensor& grad_out,
                                          const at::Tensor& grad_weights,
                                          const at::Tensor& query, const at::Tensor& key,
                                          const at::Tensor& value, const Offsets& offsets,
                                          const at::Tensor& weights, const at::Tensor& denom,
                                          int64_t normalize);

// Fingerprint of the sources the extension was built from (source_hash.cpp).
const char* source_hash();

// Forces the CPU kernels' instruction set ("base", "avx2", "avx512"; capped at what the CPU
// supports; "" keeps it) and returns the previous one. For tests and benchmarks.
std::string set_cpu_isa(const std::string& name);

// The CUDA kernels run on the CPU (cpu/cuda_kernels_on_cpu.cpp), for tests: CPU tensors,
// float32/float64/float16/bfloat16, same results and dtypes as the CUDA launchers.
std::vector<at::Tensor> psla_forward_cuda_kernels_on_cpu(const at::Tensor& query,
                                                         const at::Tensor& key,
                                                         const at::Tensor& value,
                                                         const Offsets& offsets,
                                                         int64_t normalize);
std::vector<at::Tensor> psla_backward_cuda_kernels_on_cpu(
    const at::Tensor& grad_out, const at::Tensor& grad_weights, const at::Tensor& query,
    const at::Tensor& key, const at::Tensor& value, const Offsets& offsets,
    const at::Tensor& weights, const at::Tensor& denom, int64_t normalize);

#ifdef MMPSLA_WITH_CUDA
std::vector<at::Tensor> psla_forward_cuda(const at::Tensor& query, const at::Tensor& key,
                                          const at::Tensor& value, const Offsets& offsets,
                                          int64_t normalize);

std::vector<at::Tensor> psla_backward_cuda(const at::Tensor& grad_out,
                                           const at::Tensor& grad_weights,
                                           const at::Tensor& query, const at::Tensor& key,
                                           const at::Tensor& value, const Offsets& offsets,
                                           const at::Tensor& weights, const at::Tensor& denom,
                                           int64_t normalize);
#endif

}  // namespace mmpsla

// CUDA kernels of the PSLA operator (maths in ../sparse_local_attention.h).
//
// This header depends on CUDA only (no torch), so it can be compiled and its kernels
// instantiated for float, double, __half and __nv_bfloat16 without a torch CUDA build.
// T is the storage type of query/key/value/out, A the accumulation type (double for
// double, float otherwise): the weights, normaliser and affinity gradients are kept in A.
//
// Every thread writes its own output element; the key/value gradients are gathers over
// -o, so no kernel uses atomics. Layouts are contiguous NCHW, p = y * W + x, HW = H * W,
// offsets are (dy, dx) int pairs in device memory.
//
//   psla_correlate_kernel      acc[b][o][p] = addend[b][o][p] + sum_c a[b][c][p] b[b][c][p+o]
//                              (forward affinities; backward dW = <grad_out, value>)
//   psla_normalize_kernel      logits -> weights in place (softmax / sum), writes denom
//   psla_normalize_backward_kernel  dW -> dc (gradient of the affinities) in place
//   psla_aggregate_kernel      out[b][c][p] = sum_o w[b][o][p] src[b][c][p+o]          (gather)
//                              out[b][c][r] = sum_o w[b][o][r-o] src[b][c][r-o]  (kTransposed)
//   forward:  correlate(query, key) -> normalize -> aggregate(weights, value)
//   backward: correlate(grad_out, value, + grad_weights) -> normalize_backward -> dc;
//             aggregate(dc, key) = grad_query; transposed(dc, query) = grad_key;
//             transposed(weights, grad_out) = grad_value
#pragma once

#include <cuda.h>
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <cstdint>

namespace mmpsla {
namespace cuda {

constexpr int kThreads = 256;
constexpr double kSumEpsilon = 1e-6;

template <typename T>
struct AccType {
  using type = float;
};
template <>
struct AccType<double> {
  using type = double;
};

// Explicit conversions (torch builds with __CUDA_NO_HALF_CONVERSIONS__ and friends).
__device__ __forceinline__ float to_acc(float x) { return x; }
__device__ __forceinline__ double to_acc(double x) { return x; }
__device__ __forceinline__ float to_acc(__half x) { return __half2float(x); }
__device__ __forceinline__ float to_acc(__nv_bfloat16 x) { return __bfloat162float(x); }

template <typename T>
__device__ __forceinline__ T from_acc(typename AccType<T>::type x);
template <>
__device__ __forceinline__ float from_acc<float>(float x) {
  return x;
}
template <>
__device__ __forceinline__ double from_acc<double>(double x) {
  return x;
}
template <>
__device__ __forceinline__ __half from_acc<__half>(float x) {
  return __float2half(x);
}
template <>
__device__ __forceinline__ __nv_bfloat16 from_acc<__nv_bfloat16>(float x) {
  return __float2bfloat16(x);
}

__device__ __forceinline__ float acc_exp(float x) { return __expf(x); }
__device__ __forceinline__ double acc_exp(double x) { return exp(x); }
template <typename A>
__device__ __forceinline__ A acc_neg_inf();
template <>
__device__ __forceinline__ float acc_neg_inf<float>() {
  return -INFINITY;
}
template <>
__device__ __forceinline__ double acc_neg_inf<double>() {
  return -static_cast<double>(INFINITY);
}

// Is p + (dy, dx) inside an H x W map, for p = (y, x)?
__device__ __forceinline__ bool inside(int y, int x, int dy, int dx, int H, int W) {
  const int yy = y + dy, xx = x + dx;
  return yy >= 0 && yy < H && xx >= 0 && xx < W;
}

// Grid-stride launch helpers.
inline unsigned int psla_blocks(int64_t total) {
  const int64_t blocks = (total + kThreads - 1) / kThreads;
  return static_cast<unsigned int>(blocks < 65535 * 32 ? blocks : 65535 * 32);
}

#define MMPSLA_CUDA_KERNEL_LOOP(i, n)                                                   \
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < (n); \
       i += static_cast<int64_t>(blockDim.x) * gridDim.x)

// acc[b][o][p] = (addend ? addend[b][o][p] : 0) + sum_c a[b][c][p] * bsrc[b][c][p + o]
// for valid (p, o); 0 elsewhere (the normalisation kernels use the geometry, not the value).
template <typename T, typename A>
__global__ void psla_correlate_kernel(const T* __restrict__ a, const T* __restrict__ bsrc,
                                      const A* __restrict__ addend, A* __restrict__ acc,
                                      const int* __restrict__ offsets, int B, int C, int H, int W,
                                      int N) {
  const int64_t HW = static_cast<int64_t>(H) * W;
  const int64_t total = static_cast<int64_t>(B) * N * HW;
  MMPSLA_CUDA_KERNEL_LOOP(idx, total) {
    const int64_t p = idx % HW;
    const int64_t bo = idx / HW;
    const int o = static_cast<int>(bo % N);
    const int64_t b = bo / N;
    const int y = static_cast<int>(p / W), x = static_cast<int>(p % W);
    const int dy = offsets[2 * o], dx = offsets[2 * o + 1];
    A sum = addend != nullptr ? addend[idx] : A(0);
    if (inside(y, x, dy, dx, H, W)) {
      const int64_t q = p + static_cast<int64_t>(dy) * W + dx;
      const T* ap = a + b * C * HW + p;
      const T* bp = bsrc + b * C * HW + q;
      for (int c = 0; c < C; ++c) {
        sum += static_cast<A>(to_acc(ap[c * HW])) * static_cast<A>(to_acc(bp[c * HW]));
      }
    }
    acc[idx] = sum;
  }
}

// In place: logits (B, N, H, W) -> weights; denom (B, H, W) gets the partition function
// (softmax, mode 0) or sum_valid c + 1e-6 (mode 1). Invalid offsets get weight 0.
template <typename A>
__global__ void psla_normalize_kernel(A* __restrict__ w, A* __restrict__ denom,
                                      const int* __restrict__ offsets, int B, int H, int W,
                                      int N, int mode) {
  const int64_t HW = static_cast<int64_t>(H) * W;
  const int64_t total = static_cast<int64_t>(B) * HW;
  MMPSLA_CUDA_KERNEL_LOOP(idx, total) {
    const int64_t p = idx % HW, b = idx / HW;
    const int y = static_cast<int>(p / W), x = static_cast<int>(p % W);
    A* wp = w + b * N * HW + p;
    A s = 0;
    if (mode == 0) {
      A m = acc_neg_inf<A>();
      for (int o = 0; o < N; ++o) {
        if (inside(y, x, offsets[2 * o], offsets[2 * o + 1], H, W)) m = max(m, wp[o * HW]);
      }
      for (int o = 0; o < N; ++o) {
        const bool ok = inside(y, x, offsets[2 * o], offsets[2 * o + 1], H, W);
        const A e = ok ? acc_exp(wp[o * HW] - m) : A(0);
        wp[o * HW] = e;
        s += e;
      }
      denom[idx] = s;
      const A inv = s > A(0) ? A(1) / s : A(0);
      for (int o = 0; o < N; ++o) wp[o * HW] *= inv;
    } else {
      for (int o = 0; o < N; ++o) {
        if (inside(y, x, offsets[2 * o], offsets[2 * o + 1], H, W)) s += wp[o * HW];
      }
      s += static_cast<A>(kSumEpsilon);
      denom[idx] = s;
      for (int o = 0; o < N; ++o) {
        const bool ok = inside(y, x, offsets[2 * o], offsets[2 * o + 1], H, W);
        wp[o * HW] = ok ? wp[o * HW] / s : A(0);
      }
    }
  }
}

// In place: dW (gradient wrt the weights) -> dc (gradient wrt the affinities).
//   softmax: dc_o = w_o (dW_o - sum_j w_j dW_j);   sum: dc_o = (dW_o - sum_j w_j dW_j) / denom
// Invalid offsets get dc = 0.
template <typename A>
__global__ void psla_normalize_backward_kernel(A* __restrict__ g, const A* __restrict__ w,
                                               const A* __restrict__ denom,
                                               const int* __restrict__ offsets, int B, int H,
                                               int W, int N, int mode) {
  const int64_t HW = static_cast<int64_t>(H) * W;
  const int64_t total = static_cast<int64_t>(B) * HW;
  MMPSLA_CUDA_KERNEL_LOOP(idx, total) {
    const int64_t p = idx % HW, b = idx / HW;
    const int y = static_cast<int>(p / W), x = static_cast<int>(p % W);
    A* gp = g + b * N * HW + p;
    const A* wp = w + b * N * HW + p;
    A dot = 0;
    for (int o = 0; o < N; ++o) dot += wp[o * HW] * gp[o * HW];
    const A d = denom[idx];
    for (int o = 0; o < N; ++o) {
      const bool ok = inside(y, x, offsets[2 * o], offsets[2 * o + 1], H, W);
      const A diff = gp[o * HW] - dot;
      gp[o * HW] = !ok ? A(0) : (mode == 0 ? wp[o * HW] * diff : diff / d);
    }
  }
}

// Gather (kTransposed = false): out[b][c][p] = sum_o w[b][o][p] * src[b][c][p + o].
// Transposed (kTransposed = true): out[b][c][r] = sum_o w[b][o][r - o] * src[b][c][r - o].
template <typename T, typename A, bool kTransposed>
__global__ void psla_aggregate_kernel(const A* __restrict__ w, const T* __restrict__ src,
                                      T* __restrict__ out, const int* __restrict__ offsets, int B,
                                      int C, int H, int W, int N) {
  const int64_t HW = static_cast<int64_t>(H) * W;
  const int64_t total = static_cast<int64_t>(B) * C * HW;
  MMPSLA_CUDA_KERNEL_LOOP(idx, total) {
    const int64_t p = idx % HW;
    const int64_t b = idx / HW / C;
    const int y = static_cast<int>(p / W), x = static_cast<int>(p % W);
    const A* wb = w + b * N * HW;
    const T* sc = src + (idx - p);  // plane (b, c)
    A sum = 0;
    for (int o = 0; o < N; ++o) {
      const int dy = kTransposed ? -offsets[2 * o] : offsets[2 * o];
      const int dx = kTransposed ? -offsets[2 * o + 1] : offsets[2 * o + 1];
      if (!inside(y, x, dy, dx, H, W)) continue;
      const int64_t q = p + static_cast<int64_t>(dy) * W + dx;
      const A wo = wb[o * HW + (kTransposed ? q : p)];
      sum += wo * static_cast<A>(to_acc(sc[q]));
    }
    out[idx] = from_acc<T>(sum);
  }
}

}  // namespace cuda
}  // namespace mmpsla

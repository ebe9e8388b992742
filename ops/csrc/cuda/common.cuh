// Portable CUDA helpers shared by the kernels of mmpsla._ext: the same kernel bodies compile
// with nvcc (DeviceExec) and with a host C++ compiler (HostExec / HostGrid run a launch's
// blocks and threads on the CPU, for tests). A kernel body is a function template over an
// execution policy `Exec`:
//   ex.block()        the block index (blockIdx.x)
//   ex.threads()      the block size (blockDim.x); ex.grid(): gridDim.x
//   ex.each(f)        f(tid) for the block's threads: on the GPU, f(threadIdx.x) in each
//                     thread; on the CPU, f(0), f(1), ... f(threads - 1) in order
//   ex.sync()         __syncthreads() on the GPU; nothing on the CPU
// T is a storage type (float, double, half, bfloat16: on the CPU c10::Half / c10::BFloat16),
// A its accumulation type (double for double, else float).
#pragma once

#include <cstddef>
#include <cstdint>

#if defined(__CUDACC__)
#include <cuda.h>
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>
#define MMPSLA_HD __host__ __device__ __forceinline__
#else
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>
#define MMPSLA_HD inline
#endif

namespace mmpsla {
namespace cuda {

constexpr int kThreads = 256;  // threads of the grid-stride kernels

template <typename T>
struct AccType {
  using type = float;
};
template <>
struct AccType<double> {
  using type = double;
};

// Conversions: generic casts (float, double, and c10::Half / c10::BFloat16 on the CPU), and
// explicit intrinsics for the CUDA half types (torch builds with __CUDA_NO_HALF_CONVERSIONS__).
template <typename T>
MMPSLA_HD typename AccType<T>::type to_acc(T x) {
  return static_cast<typename AccType<T>::type>(x);
}
template <typename T, typename A>
MMPSLA_HD T from_acc(A x) {
  return static_cast<T>(x);
}
#if defined(__CUDACC__)
template <>
__host__ __device__ __forceinline__ float to_acc<__half>(__half x) {
  return __half2float(x);
}
template <>
__host__ __device__ __forceinline__ float to_acc<__nv_bfloat16>(__nv_bfloat16 x) {
  return __bfloat162float(x);
}
template <>
__host__ __device__ __forceinline__ __half from_acc<__half, float>(float x) {
  return __float2half(x);
}
template <>
__host__ __device__ __forceinline__ __nv_bfloat16 from_acc<__nv_bfloat16, float>(float x) {
  return __float2bfloat16(x);
}
#endif

// Is (y, x) inside an H x W map?
MMPSLA_HD bool inside(int y, int x, int H, int W) { return y >= 0 && y < H && x >= 0 && x < W; }

// Adds v to *p: atomically on the GPU; on the CPU the HostGrid runs threads one at a time.
template <typename A>
MMPSLA_HD void atomic_add(A* p, A v) {
#if defined(__CUDA_ARCH__)
  atomicAdd(p, v);
#else
  *p += v;
#endif
}

// Blocks of kThreads for a grid-stride loop over `total` elements.
inline int grid_stride_blocks(int64_t total) {
  const int64_t blocks = (total + kThreads - 1) / kThreads;
  return static_cast<int>(blocks < 65535 * 32 ? blocks : 65535 * 32);
}

// Runs f(idx) for idx in [0, total) over the whole launch grid (grid-stride loop).
template <class Exec, typename F>
MMPSLA_HD void grid_stride(const Exec& ex, int64_t total, F&& f) {
  ex.each([&](int tid) {
    const int64_t stride = static_cast<int64_t>(ex.threads()) * ex.grid();
    for (int64_t idx = static_cast<int64_t>(ex.block()) * ex.threads() + tid; idx < total;
         idx += stride) {
      f(idx);
    }
  });
}

// ------------------------------------------------------------------- execution policies
#if defined(__CUDACC__)
struct DeviceExec {
  __device__ __forceinline__ int block() const { return static_cast<int>(blockIdx.x); }
  __device__ __forceinline__ int threads() const { return static_cast<int>(blockDim.x); }
  __device__ __forceinline__ int grid() const { return static_cast<int>(gridDim.x); }
  template <typename F>
  __device__ __forceinline__ void each(F&& f) const {
    f(static_cast<int>(threadIdx.x));
  }
  __device__ __forceinline__ void sync() const { __syncthreads(); }
};
#else
// CPU execution of a launch: blocks one after the other, each block's phases run for all of
// its threads in order. Kernels are sequences of block-uniform phases `ex.each(...)` separated
// by `ex.sync()`, so this is exactly the GPU semantics of a barrier.
struct HostExec {
  int block_index, block_threads, grid_blocks;
  int block() const { return block_index; }
  int threads() const { return block_threads; }
  int grid() const { return grid_blocks; }
  template <typename F>
  void each(F&& f) const {
    for (int t = 0; t < block_threads; ++t) f(t);
  }
  void sync() const {}
};

// Runs body(exec, shared_memory) for every block of a <<<blocks, threads, smem>>> launch.
struct HostGrid {
  int blocks, threads;
  size_t smem_bytes;
  template <typename Body>
  void launch(Body&& body) const {
    std::vector<unsigned char> smem(smem_bytes + 16);
    for (int b = 0; b < blocks; ++b) {
      std::memset(smem.data(), 0xFF, smem.size());  // NaN: catches unwritten shared reads
      body(HostExec{b, threads, blocks}, smem.data());
    }
  }
};
#endif

}  // namespace cuda
}  // namespace mmpsla

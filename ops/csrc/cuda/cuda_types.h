// The CUDA type of a torch scalar type, for nvcc-compiled launchers: at::Half -> __half,
// at::BFloat16 -> __nv_bfloat16, float / double unchanged.
#pragma once

#include <ATen/ATen.h>
#include <cuda_bf16.h>
#include <cuda_fp16.h>

namespace mmpsla {
namespace cuda {

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

}  // namespace cuda
}  // namespace mmpsla

// Torch launcher of the PSLA CUDA kernels (compiled only when building with CUDA). The
// tensors, tile plan and parameters come from sparse_local_attention_launch.h, which the
// CPU runner of the same kernels (cpu/cuda_kernels_on_cpu.cpp) shares.
#include <ATen/ATen.h>
#include <ATen/Dispatch.h>
#include <c10/cuda/CUDAException.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>

#include "cuda/cuda_types.h"
#include "cuda/sparse_local_attention_launch.h"

namespace mmpsla {
namespace {

struct CudaLauncher {
  cudaStream_t stream;
  size_t limit;
  int sms;

  size_t smem_limit() const { return limit; }
  int target_blocks() const { return 2 * sms; }

  template <typename T, typename A, bool kBackward>
  void fused(const cuda::FusedPlan& plan, const cuda::FusedParams<T, A>& p) const {
    auto kernel = cuda::psla_fused_kernel<T, A, kBackward>;
    C10_CUDA_CHECK(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                        static_cast<int>(plan.smem_bytes)));
    kernel<<<plan.blocks, plan.threads, plan.smem_bytes, stream>>>(p);
    C10_CUDA_KERNEL_LAUNCH_CHECK();
  }

  template <typename T, typename A>
  void transposed(const cuda::TransposedParams<T, A>& p, int64_t total) const {
    cuda::psla_transposed_kernel<T, A>
        <<<cuda::grid_stride_blocks(total), cuda::kThreads, 0, stream>>>(p);
    C10_CUDA_KERNEL_LAUNCH_CHECK();
  }
};

CudaLauncher launcher_for(const at::Tensor& t) {
  int optin = 0, sms = 0;
  C10_CUDA_CHECK(cudaDeviceGetAttribute(&optin, cudaDevAttrMaxSharedMemoryPerBlockOptin,
                                        t.device().index()));
  C10_CUDA_CHECK(
      cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, t.device().index()));
  return {c10::cuda::getCurrentCUDAStream(), static_cast<size_t>(optin), sms};
}

}  // namespace

std::vector<at::Tensor> psla_forward_cuda(const at::Tensor& query, const at::Tensor& key,
                                          const at::Tensor& value, const Offsets& offsets,
                                          int64_t normalize) {
  const c10::cuda::CUDAGuard guard(query.device());
  CudaLauncher launch = launcher_for(query);
  std::vector<at::Tensor> result;
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, query.scalar_type(),
                                  "psla_forward_cuda", [&] {
    using T = typename cuda::CudaType<scalar_t>::type;
    result = cuda::run_forward<scalar_t, T>(query, key, value, offsets, normalize, launch);
  });
  return result;
}

std::vector<at::Tensor> psla_backward_cuda(const at::Tensor& grad_out,
                                           const at::Tensor& grad_weights,
                                           const at::Tensor& query, const at::Tensor& key,
                                           const at::Tensor& value, const Offsets& offsets,
                                           const at::Tensor& weights, const at::Tensor& denom,
                                           int64_t normalize) {
  const c10::cuda::CUDAGuard guard(query.device());
  CudaLauncher launch = launcher_for(query);
  std::vector<at::Tensor> result;
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, query.scalar_type(),
                                  "psla_backward_cuda", [&] {
    using T = typename cuda::CudaType<scalar_t>::type;
    result = cuda::run_backward<scalar_t, T>(grad_out, grad_weights, query, key, value, offsets,
                                             weights, denom, normalize, launch);
  });
  return result;
}

}  // namespace mmpsla

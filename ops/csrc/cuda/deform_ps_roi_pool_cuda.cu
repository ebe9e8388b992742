// Torch launcher of the deformable PS-RoI pooling CUDA kernels (compiled only when building
// with CUDA). Tensors and parameters come from deform_ps_roi_pool_launch.h, which the CPU
// runner of the same kernels (cpu/cuda_kernels_on_cpu.cpp) shares.
#include <ATen/ATen.h>
#include <ATen/Dispatch.h>
#include <c10/cuda/CUDAException.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>

#include "cuda/cuda_types.h"
#include "cuda/deform_ps_roi_pool_launch.h"

namespace mmpsla {
namespace {

struct DeformCudaLauncher {
  cudaStream_t stream;

  template <typename T, typename A>
  void deform_forward(const cuda::DeformPSRoIParams<T, A>& p, T* out, int64_t total) const {
    cuda::deform_ps_roi_pool_forward_kernel<T, A>
        <<<cuda::grid_stride_blocks(total), cuda::kThreads, 0, stream>>>(p, out);
    C10_CUDA_KERNEL_LAUNCH_CHECK();
  }

  template <typename T, typename A>
  void deform_backward(const cuda::DeformPSRoIParams<T, A>& p, const T* grad_out, A* grad_x,
                       A* grad_offsets, int64_t total) const {
    cuda::deform_ps_roi_pool_backward_kernel<T, A>
        <<<cuda::grid_stride_blocks(total), cuda::kThreads, 0, stream>>>(p, grad_out, grad_x,
                                                                          grad_offsets);
    C10_CUDA_KERNEL_LAUNCH_CHECK();
  }
};

}  // namespace

at::Tensor deform_ps_roi_pool_forward_cuda(const at::Tensor& x, const at::Tensor& rois,
                                           const at::Tensor& offsets,
                                           const DeformPSRoIPoolArgs& args) {
  const c10::cuda::CUDAGuard guard(x.device());
  const DeformCudaLauncher launch{c10::cuda::getCurrentCUDAStream()};
  at::Tensor out;
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, x.scalar_type(),
                                  "deform_ps_roi_pool_forward_cuda", [&] {
    using T = typename cuda::CudaType<scalar_t>::type;
    out = cuda::run_deform_forward<scalar_t, T>(x, rois, offsets, args, launch);
  });
  return out;
}

std::vector<at::Tensor> deform_ps_roi_pool_backward_cuda(const at::Tensor& grad_out,
                                                         const at::Tensor& x,
                                                         const at::Tensor& rois,
                                                         const at::Tensor& offsets,
                                                         const DeformPSRoIPoolArgs& args) {
  const c10::cuda::CUDAGuard guard(x.device());
  const DeformCudaLauncher launch{c10::cuda::getCurrentCUDAStream()};
  std::vector<at::Tensor> result;
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, x.scalar_type(),
                                  "deform_ps_roi_pool_backward_cuda", [&] {
    using T = typename cuda::CudaType<scalar_t>::type;
    result = cuda::run_deform_backward<scalar_t, T>(grad_out, x, rois, offsets, args, launch);
  });
  return result;
}

}  // namespace mmpsla

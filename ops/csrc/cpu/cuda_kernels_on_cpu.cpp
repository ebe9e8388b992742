// The CUDA kernels of cuda/sparse_local_attention_kernel.cuh and
// cuda/deform_ps_roi_pool_kernel.cuh, compiled by the host compiler
// and run over their whole launch grid on the CPU (HostGrid: blocks in turn, each block's
// phases for all of its threads, shared memory per block). Test-only: it is how the CUDA
// code is checked against the reference on every CI run without a GPU. Same tensors, plan
// and parameters as the GPU launcher (cuda/sparse_local_attention_launch.h).
#include <algorithm>

#include "cuda/deform_ps_roi_pool_launch.h"
#include "cuda/sparse_local_attention_launch.h"

namespace mmpsla {
namespace {

struct HostLauncher {
  // the opt-in shared memory per block of H100 / H200 (227 KiB): the tile plan the GPU gets
  size_t smem_limit() const { return 227 * 1024; }
  // few blocks, but more than the tiles of a test map: the channel groups of phase C (one
  // tile split over several blocks) run too
  int target_blocks() const { return 8; }

  template <typename T, typename A, bool kBackward>
  void fused(const cuda::FusedPlan& plan, const cuda::FusedParams<T, A>& p) const {
    cuda::HostGrid{plan.blocks, plan.threads, plan.smem_bytes}.launch(
        [&](const cuda::HostExec& ex, unsigned char* smem) {
          cuda::fused_tile<T, A, kBackward>(ex, p, smem);
        });
  }

  template <typename T, typename A>
  void transposed(const cuda::TransposedParams<T, A>& p, int64_t total) const {
    // at most 3 blocks: a smaller grid than the GPU's also runs the grid-stride loop
    const int blocks = std::min(cuda::grid_stride_blocks(total), 3);
    cuda::HostGrid{blocks, cuda::kThreads, 0}.launch(
        [&](const cuda::HostExec& ex, unsigned char*) { cuda::transposed_gather<T, A>(ex, p); });
  }
};

struct DeformHostLauncher {
  // at most 3 blocks: a smaller grid than the GPU's also runs the grid-stride loop
  static cuda::HostGrid grid(int64_t total) {
    return {std::min(cuda::grid_stride_blocks(total), 3), cuda::kThreads, 0};
  }

  template <typename T, typename A>
  void deform_forward(const cuda::DeformPSRoIParams<T, A>& p, T* out, int64_t total) const {
    grid(total).launch([&](const cuda::HostExec& ex, unsigned char*) {
      cuda::deform_ps_roi_pool_forward<T, A>(ex, p, out);
    });
  }

  template <typename T, typename A>
  void deform_backward(const cuda::DeformPSRoIParams<T, A>& p, const T* grad_out, A* grad_x,
                       A* grad_offsets, int64_t total) const {
    grid(total).launch([&](const cuda::HostExec& ex, unsigned char*) {
      cuda::deform_ps_roi_pool_backward<T, A>(ex, p, grad_out, grad_x, grad_offsets);
    });
  }
};

}  // namespace

std::vector<at::Tensor> psla_forward_cuda_kernels_on_cpu(const at::Tensor& query,
                                                         const at::Tensor& key,
                                                         const at::Tensor& value,
                                                         const Offsets& offsets,
                                                         int64_t normalize) {
  HostLauncher launch;
  std::vector<at::Tensor> result;
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, query.scalar_type(),
                                  "psla_forward_cuda_kernels_on_cpu", [&] {
    result = cuda::run_forward<scalar_t, scalar_t>(query, key, value, offsets, normalize, launch);
  });
  return result;
}

std::vector<at::Tensor> psla_backward_cuda_kernels_on_cpu(
    const at::Tensor& grad_out, const at::Tensor& grad_weights, const at::Tensor& query,
    const at::Tensor& key, const at::Tensor& value, const Offsets& offsets,
    const at::Tensor& weights, const at::Tensor& denom, int64_t normalize) {
  HostLauncher launch;
  std::vector<at::Tensor> result;
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, query.scalar_type(),
                                  "psla_backward_cuda_kernels_on_cpu", [&] {
    result = cuda::run_backward<scalar_t, scalar_t>(grad_out, grad_weights, query, key, value,
                                                    offsets, weights, denom, normalize, launch);
  });
  return result;
}

at::Tensor deform_ps_roi_pool_forward_cuda_kernels_on_cpu(const at::Tensor& x,
                                                          const at::Tensor& rois,
                                                          const at::Tensor& offsets,
                                                          const DeformPSRoIPoolArgs& args) {
  at::Tensor out;
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, x.scalar_type(),
                                  "deform_ps_roi_pool_forward_cuda_kernels_on_cpu", [&] {
    out = cuda::run_deform_forward<scalar_t, scalar_t>(x, rois, offsets, args,
                                                       DeformHostLauncher());
  });
  return out;
}

std::vector<at::Tensor> deform_ps_roi_pool_backward_cuda_kernels_on_cpu(
    const at::Tensor& grad_out, const at::Tensor& x, const at::Tensor& rois,
    const at::Tensor& offsets, const DeformPSRoIPoolArgs& args) {
  std::vector<at::Tensor> result;
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, x.scalar_type(),
                                  "deform_ps_roi_pool_backward_cuda_kernels_on_cpu", [&] {
    result = cuda::run_deform_backward<scalar_t, scalar_t>(grad_out, x, rois, offsets, args,
                                                           DeformHostLauncher());
  });
  return result;
}

}  // namespace mmpsla

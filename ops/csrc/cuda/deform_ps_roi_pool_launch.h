// Launch logic of the deformable PS-RoI pooling CUDA kernels, shared by the CUDA launcher
// (deform_ps_roi_pool_cuda.cu, nvcc) and the CPU runner of the same kernels
// (cpu/cuda_kernels_on_cpu.cpp): tensors and kernel parameters are built here once; a
// `Launcher` runs the kernels, on the GPU (<<<...>>>) or on the CPU (HostGrid):
//   Launcher::deform_forward<T, A>(p, out, total)
//   Launcher::deform_backward<T, A>(p, grad_out, grad_x, grad_offsets, total)
// S is the torch scalar type, T the type the kernels see (S reinterpreted).
#pragma once

#include "cuda/deform_ps_roi_pool_kernel.cuh"
#include "deform_ps_roi_pool.h"

namespace mmpsla {
namespace cuda {

template <typename T, typename S>
T* typed_ptr(const at::Tensor& t) {
  return t.defined() ? reinterpret_cast<T*>(t.data_ptr<S>()) : nullptr;
}

template <typename T, typename A, typename S>
DeformPSRoIParams<T, A> deform_params(const at::Tensor& x, const at::Tensor& rois,
                                      const at::Tensor& offsets,
                                      const DeformPSRoIPoolArgs& args) {
  DeformPSRoIParams<T, A> p;
  p.kh = static_cast<int>(args.pooled_height);
  p.kw = static_cast<int>(args.pooled_width);
  p.B = static_cast<int>(x.size(0));
  p.C = static_cast<int>(x.size(1) / (p.kh * p.kw));
  p.H = static_cast<int>(x.size(2));
  p.W = static_cast<int>(x.size(3));
  p.N = static_cast<int>(rois.size(0));
  p.P = static_cast<int>(args.part_size);
  p.S = static_cast<int>(args.sample_per_part);
  p.num_trans = offsets.defined() ? static_cast<int>(offsets.size(1) / 2) : 1;
  p.spatial_scale = static_cast<A>(args.spatial_scale);
  p.trans_std = static_cast<A>(args.trans_std);
  p.x = typed_ptr<const T, S>(x);
  p.rois = rois.data_ptr<A>();
  p.offsets = typed_ptr<const T, S>(offsets);
  return p;
}

template <typename S, typename T, class Launcher>
at::Tensor run_deform_forward(const at::Tensor& x, const at::Tensor& rois,
                              const at::Tensor& offsets, const DeformPSRoIPoolArgs& args,
                              const Launcher& launch) {
  using A = typename AccType<T>::type;
  const auto p = deform_params<T, A, S>(x, rois, offsets, args);
  at::Tensor out = at::empty({p.N, p.C, p.kh, p.kw}, x.options());
  if (out.numel() > 0) launch.template deform_forward<T, A>(p, typed_ptr<T, S>(out), out.numel());
  return out;
}

template <typename S, typename T, class Launcher>
std::vector<at::Tensor> run_deform_backward(const at::Tensor& grad_out, const at::Tensor& x,
                                            const at::Tensor& rois, const at::Tensor& offsets,
                                            const DeformPSRoIPoolArgs& args,
                                            const Launcher& launch) {
  using A = typename AccType<T>::type;
  const auto p = deform_params<T, A, S>(x, rois, offsets, args);
  const auto acc = x.options().dtype(rois.scalar_type());
  at::Tensor grad_x = at::zeros(x.sizes(), acc);
  at::Tensor grad_offsets = offsets.defined() ? at::zeros(offsets.sizes(), acc) : at::Tensor();
  if (grad_out.numel() > 0) {
    launch.template deform_backward<T, A>(p, typed_ptr<const T, S>(grad_out),
                                          grad_x.data_ptr<A>(),
                                          grad_offsets.defined() ? grad_offsets.data_ptr<A>()
                                                                 : nullptr,
                                          grad_out.numel());
  }
  return {grad_x.to(x.scalar_type()),
          grad_offsets.defined() ? grad_offsets.to(x.scalar_type()) : grad_offsets};
}

}  // namespace cuda
}  // namespace mmpsla

// Deformable position-sensitive RoI pooling (Deformable R-FCN, Dai et al. 2017, Sec. 2.2):
// declarations shared by the CPU and CUDA implementations and by the Python bindings.
//
// Shapes (contiguous): x (B, kh * kw * C, H, W), group-major: channel (i * kw + j) * C + c
// holds class / coordinate c of bin (i, j); rois (N, 5) (batch, x1, y1, x2, y2) in image
// pixels, in the accumulation dtype (float64 for float64 inputs, float32 otherwise); offsets
// (N, 2 * T, P, P) normalised (x then y per offset class) or undefined; out (N, C, kh, kw).
//
// Semantics, for RoI n, output channel c (offset class t = c / (C / T)) and bin (i, j):
//   x1 = rois[1] * scale - 0.5, roi_w = max(rois[3] * scale - 0.5 - x1, 0.1) (y alike),
//   part (pi, pj) = (i * P / kh, j * P / kw), shift (dx, dy) = offsets[n, 2t:2t+2, pi, pj]
//   * trans_std * (roi_w, roi_h); sample (sy, sx) of S x S at
//   (y1 + (i + (sy + 0.5) / S) * roi_h / kh + dy, x1 + (j + (sx + 0.5) / S) * roi_w / kw + dx).
//   A sample outside [-0.5, size - 0.5] is dropped; one inside is clamped to [0, size - 1]
//   and read bilinearly from plane (batch, (i * kw + j) * C + c). out = mean of the valid
//   samples, 0 when there is none. An out-of-range batch index gives 0 (the Python layer
//   rejects it before).
// Gradients: for x, and for the offsets (the count of valid samples is piecewise constant;
// a clamped axis has zero derivative). None for the RoIs.
#pragma once

#include <torch/extension.h>

#include <vector>

namespace mmpsla {

struct DeformPSRoIPoolArgs {
  int64_t pooled_height, pooled_width;  // kh, kw
  double spatial_scale;
  int64_t part_size;        // P
  int64_t sample_per_part;  // S
  double trans_std;
};

// The launchers take inputs validated by bindings.cpp (contiguous; rois in the accumulation
// dtype on x's device; offsets undefined or (N, 2T, P, P) in x's dtype).

at::Tensor deform_ps_roi_pool_forward_cpu(const at::Tensor& x, const at::Tensor& rois,
                                          const at::Tensor& offsets,
                                          const DeformPSRoIPoolArgs& args);
// Returns {grad_x, grad_offsets} (grad_offsets undefined without offsets).
std::vector<at::Tensor> deform_ps_roi_pool_backward_cpu(const at::Tensor& grad_out,
                                                        const at::Tensor& x,
                                                        const at::Tensor& rois,
                                                        const at::Tensor& offsets,
                                                        const DeformPSRoIPoolArgs& args);

// The CUDA kernels run on the CPU (cpu/cuda_kernels_on_cpu.cpp), for tests.
at::Tensor deform_ps_roi_pool_forward_cuda_kernels_on_cpu(const at::Tensor& x,
                                                          const at::Tensor& rois,
                                                          const at::Tensor& offsets,
                                                          const DeformPSRoIPoolArgs& args);
std::vector<at::Tensor> deform_ps_roi_pool_backward_cuda_kernels_on_cpu(
    const at::Tensor& grad_out, const at::Tensor& x, const at::Tensor& rois,
    const at::Tensor& offsets, const DeformPSRoIPoolArgs& args);

#ifdef MMPSLA_WITH_CUDA
at::Tensor deform_ps_roi_pool_forward_cuda(const at::Tensor& x, const at::Tensor& rois,
                                           const at::Tensor& offsets,
                                           const DeformPSRoIPoolArgs& args);
std::vector<at::Tensor> deform_ps_roi_pool_backward_cuda(const at::Tensor& grad_out,
                                                         const at::Tensor& x,
                                                         const at::Tensor& rois,
                                                         const at::Tensor& offsets,
                                                         const DeformPSRoIPoolArgs& args);
#endif

}  // namespace mmpsla

// RoIAlign with average pooling on the CPU (the CUDA path of mmpsla.ops.roi_align is mmcv's
// kernel): declarations shared by the CPU kernel and the Python bindings.
//
// Semantics: those of mmcv.ops.roi_align(x, rois, (PH, PW), spatial_scale, sampling_ratio,
// 'avg', aligned). Shapes (contiguous): x (N, C, H, W); rois (R, 5) (batch, x1, y1, x2, y2)
// in image pixels, in x's dtype; out (R, C, PH, PW). For RoI r and bin (ph, pw):
//   offset = aligned ? 0.5 : 0; x1 = rois[1] * scale - offset, roi_w = rois[3] * scale -
//   offset - x1 (at least 1 when !aligned), y alike; grid gh = sampling_ratio > 0 ?
//   sampling_ratio : ceil(roi_h / PH) (gw alike); sample (iy, ix) at
//   (y1 + ph * roi_h / PH + (iy + 0.5) * roi_h / PH / gh, x1 + ...); a sample outside
//   [-1, size] reads 0, one inside is clamped to [0, size - 1] and read bilinearly;
//   out = sum of the samples / max(gh * gw, 1).
// Gradient: for x only (none for the RoIs, as in mmcv).
#pragma once

#include <torch/extension.h>

#include <vector>

namespace mmpsla {

struct RoIAlignArgs {
  int64_t pooled_height, pooled_width;
  double spatial_scale;
  int64_t sampling_ratio;
  bool aligned;
};

// Inputs validated by roi_align_bindings.cpp (CPU, contiguous, rois in x's dtype).
at::Tensor roi_align_forward_cpu(const at::Tensor& x, const at::Tensor& rois,
                                 const RoIAlignArgs& args);
at::Tensor roi_align_backward_cpu(const at::Tensor& grad_out, const at::Tensor& rois,
                                  const std::vector<int64_t>& x_shape,
                                  const RoIAlignArgs& args);

}  // namespace mmpsla

// Python bindings of the CPU RoIAlign and the one place in C++ where its arguments are
// checked. The user-facing validation, with Python exceptions naming the argument, is
// mmpsla/ops/roi_align_op.py; these TORCH_CHECKs guard direct calls.
#include <vector>

#include "roi_align.h"

namespace mmpsla {
namespace {

RoIAlignArgs check(const at::Tensor& x_like, const at::Tensor& rois, int64_t pooled_height,
                   int64_t pooled_width, double spatial_scale, int64_t sampling_ratio,
                   bool aligned) {
  const char* op = "roi_align";
  TORCH_CHECK(pooled_height >= 1 && pooled_width >= 1, op,
              ": output_size must be positive, got (", pooled_height, ", ", pooled_width, ")");
  TORCH_CHECK(spatial_scale > 0, op, ": spatial_scale must be positive, got ", spatial_scale);
  TORCH_CHECK(sampling_ratio >= 0, op, ": sampling_ratio must be >= 0, got ", sampling_ratio);
  TORCH_CHECK(x_like.device().is_cpu(), op, ": the compiled kernel is CPU only, got ",
              x_like.device());
  const auto dtype = x_like.scalar_type();
  TORCH_CHECK(dtype == at::kFloat || dtype == at::kDouble, op,
              ": float32 or float64 expected, got ", dtype);
  TORCH_CHECK(rois.dim() == 2 && rois.size(1) == 5, op, ": rois must have shape (R, 5), got ",
              rois.sizes());
  TORCH_CHECK(rois.scalar_type() == dtype && rois.device().is_cpu(), op,
              ": rois must be a CPU tensor of x's dtype");
  return {pooled_height, pooled_width, spatial_scale, sampling_ratio, aligned};
}

at::Tensor forward(const at::Tensor& x, const at::Tensor& rois, int64_t pooled_height,
                   int64_t pooled_width, double spatial_scale, int64_t sampling_ratio,
                   bool aligned) {
  TORCH_CHECK(x.dim() == 4, "roi_align: x must be 4-D (N, C, H, W), got ", x.sizes());
  const RoIAlignArgs a =
      check(x, rois, pooled_height, pooled_width, spatial_scale, sampling_ratio, aligned);
  return roi_align_forward_cpu(x.contiguous(), rois.contiguous(), a);
}

at::Tensor backward(const at::Tensor& grad_out, const at::Tensor& rois,
                    const std::vector<int64_t>& x_shape, int64_t pooled_height,
                    int64_t pooled_width, double spatial_scale, int64_t sampling_ratio,
                    bool aligned) {
  TORCH_CHECK(x_shape.size() == 4, "roi_align backward: x_shape must have 4 sizes");
  const RoIAlignArgs a =
      check(grad_out, rois, pooled_height, pooled_width, spatial_scale, sampling_ratio, aligned);
  const std::vector<int64_t> expected{rois.size(0), x_shape[1], pooled_height, pooled_width};
  TORCH_CHECK(grad_out.sizes() == at::IntArrayRef(expected),
              "roi_align backward: grad_out must have shape ", expected, ", got ",
              grad_out.sizes());
  return roi_align_backward_cpu(grad_out.contiguous(), rois.contiguous(), x_shape, a);
}

}  // namespace

void bind_roi_align(pybind11::module& m) {
  using pybind11::arg;
  m.def("roi_align_forward", &forward, "RoIAlign (avg) forward on the CPU -> (R, C, PH, PW)",
        arg("x"), arg("rois"), arg("pooled_height"), arg("pooled_width"), arg("spatial_scale"),
        arg("sampling_ratio"), arg("aligned"));
  m.def("roi_align_backward", &backward, "RoIAlign (avg) backward on the CPU -> grad_x",
        arg("grad_out"), arg("rois"), arg("x_shape"), arg("pooled_height"),
        arg("pooled_width"), arg("spatial_scale"), arg("sampling_ratio"), arg("aligned"));
}

}  // namespace mmpsla

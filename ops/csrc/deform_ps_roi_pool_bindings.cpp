// Python bindings of the deformable PS-RoI pooling op, and the one place in C++ where its
// arguments are checked (the launchers trust what the dispatchers below pass them). The
// user-facing validation, with Python exceptions naming the argument, is
// mmpsla/ops/deform_ps_roi_pool_op.py; these TORCH_CHECKs guard direct calls.
#include <optional>
#include <vector>

#include "deform_ps_roi_pool.h"

namespace mmpsla {
namespace {

struct Checked {
  at::Tensor x, rois, offsets;  // contiguous; rois in the accumulation dtype on x's device
  DeformPSRoIPoolArgs args;
};

Checked check_forward(const at::Tensor& x, const at::Tensor& rois,
                      const std::optional<at::Tensor>& offsets, int64_t pooled_height,
                      int64_t pooled_width, double spatial_scale, int64_t part_size,
                      int64_t sample_per_part, double trans_std, bool cuda_kernels) {
  const char* op = "deform_ps_roi_pool";
  TORCH_CHECK(pooled_height >= 1 && pooled_width >= 1, op,
              ": output_size must be positive, got (", pooled_height, ", ", pooled_width, ")");
  TORCH_CHECK(part_size >= 1, op, ": part_size must be >= 1, got ", part_size);
  TORCH_CHECK(sample_per_part >= 1, op, ": sample_per_part must be >= 1, got ",
              sample_per_part);
  TORCH_CHECK(spatial_scale > 0, op, ": spatial_scale must be positive, got ", spatial_scale);
  TORCH_CHECK(x.dim() == 4, op, ": x must be 4-D (B, kh*kw*C, H, W), got ", x.sizes());
  const int64_t bins = pooled_height * pooled_width;
  TORCH_CHECK(x.size(1) % bins == 0 && x.size(1) > 0, op, ": x has ", x.size(1),
              " channels, not a positive multiple of the ", bins, " bins");
  TORCH_CHECK(x.size(2) > 0 && x.size(3) > 0, op, ": x must have a non-empty map, got ",
              x.sizes());
  const auto dtype = x.scalar_type();
  if (x.is_cuda() || cuda_kernels) {
    TORCH_CHECK(x.is_cuda() || x.device().is_cpu(), op, ": x must be a CPU or CUDA tensor");
    TORCH_CHECK(dtype == at::kFloat || dtype == at::kDouble || dtype == at::kHalf ||
                    dtype == at::kBFloat16,
                op, " (CUDA): x must be float32, float64, float16 or bfloat16, got ", dtype);
  } else {
    TORCH_CHECK(x.device().is_cpu(), op, ": x must be a CPU or CUDA tensor, got ", x.device());
    TORCH_CHECK(dtype == at::kFloat || dtype == at::kDouble, op,
                " (CPU): x must be float32 or float64, got ", dtype);
  }
  TORCH_CHECK(rois.dim() == 2 && rois.size(1) == 5, op,
              ": rois must have shape (N, 5), got ", rois.sizes());
  TORCH_CHECK(at::isFloatingType(rois.scalar_type()), op,
              ": rois must be a floating-point tensor, got ", rois.scalar_type());
  TORCH_CHECK(rois.device() == x.device(), op, ": rois must be on ", x.device(), ", got ",
              rois.device());
  TORCH_CHECK(x.numel() < (int64_t(1) << 40) && rois.size(0) < (int64_t(1) << 31) &&
                  x.size(0) < (int64_t(1) << 31) && x.size(1) < (int64_t(1) << 31),
              op, ": tensors too large");
  const auto acc = dtype == at::kDouble ? at::kDouble : at::kFloat;
  Checked out{x.contiguous(), rois.to(acc).contiguous(), at::Tensor(),
              {pooled_height, pooled_width, spatial_scale, part_size, sample_per_part,
               trans_std}};
  if (offsets.has_value() && offsets->defined()) {
    const at::Tensor& o = *offsets;
    TORCH_CHECK(o.dim() == 4 && o.size(0) == rois.size(0) && o.size(2) == part_size &&
                    o.size(3) == part_size && o.size(1) >= 2 && o.size(1) % 2 == 0,
                op, ": offsets must have shape (N=", rois.size(0), ", 2*T, ", part_size, ", ",
                part_size, "), got ", o.sizes());
    const int64_t channels = x.size(1) / bins;
    TORCH_CHECK(channels % (o.size(1) / 2) == 0, op, ": the ", o.size(1) / 2,
                " offset classes must divide the ", channels, " pooled channels");
    TORCH_CHECK(o.scalar_type() == dtype && o.device() == x.device(), op,
                ": offsets must have x's dtype and device (", dtype, ", ", x.device(), "), got ",
                o.scalar_type(), ", ", o.device());
    out.offsets = o.contiguous();
  }
  return out;
}

Checked check_backward(const at::Tensor& grad_out, const at::Tensor& x, const at::Tensor& rois,
                       const std::optional<at::Tensor>& offsets, int64_t pooled_height,
                       int64_t pooled_width, double spatial_scale, int64_t part_size,
                       int64_t sample_per_part, double trans_std, bool cuda_kernels) {
  Checked c = check_forward(x, rois, offsets, pooled_height, pooled_width, spatial_scale,
                            part_size, sample_per_part, trans_std, cuda_kernels);
  const std::vector<int64_t> expected{rois.size(0), x.size(1) / (pooled_height * pooled_width),
                                      pooled_height, pooled_width};
  TORCH_CHECK(grad_out.sizes() == at::IntArrayRef(expected), "deform_ps_roi_pool backward: grad_out must have "
              "shape ", expected, ", got ", grad_out.sizes());
  TORCH_CHECK(grad_out.scalar_type() == x.scalar_type() && grad_out.device() == x.device(),
              "deform_ps_roi_pool backward: grad_out must have x's dtype and device");
  return c;
}

#define MMPSLA_DEFORM_ARGS                                                                  \
  int64_t pooled_height, int64_t pooled_width, double spatial_scale, int64_t part_size, \
      int64_t sample_per_part, double trans_std
#define MMPSLA_DEFORM_PASS \
  pooled_height, pooled_width, spatial_scale, part_size, sample_per_part, trans_std

at::Tensor forward(const at::Tensor& x, const at::Tensor& rois,
                   const std::optional<at::Tensor>& offsets, MMPSLA_DEFORM_ARGS) {
  const Checked c = check_forward(x, rois, offsets, MMPSLA_DEFORM_PASS, false);
  if (x.is_cuda()) {
#ifdef MMPSLA_WITH_CUDA
    return deform_ps_roi_pool_forward_cuda(c.x, c.rois, c.offsets, c.args);
#else
    TORCH_CHECK(false, "deform_ps_roi_pool: mmpsla._ext was built without CUDA");
#endif
  }
  return deform_ps_roi_pool_forward_cpu(c.x, c.rois, c.offsets, c.args);
}

std::vector<at::Tensor> backward(const at::Tensor& grad_out, const at::Tensor& x,
                                 const at::Tensor& rois,
                                 const std::optional<at::Tensor>& offsets, MMPSLA_DEFORM_ARGS) {
  const Checked c = check_backward(grad_out, x, rois, offsets, MMPSLA_DEFORM_PASS, false);
  const at::Tensor g = grad_out.contiguous();
  if (x.is_cuda()) {
#ifdef MMPSLA_WITH_CUDA
    return deform_ps_roi_pool_backward_cuda(g, c.x, c.rois, c.offsets, c.args);
#else
    TORCH_CHECK(false, "deform_ps_roi_pool: mmpsla._ext was built without CUDA");
#endif
  }
  return deform_ps_roi_pool_backward_cpu(g, c.x, c.rois, c.offsets, c.args);
}

at::Tensor forward_cuda_kernels_on_cpu(const at::Tensor& x, const at::Tensor& rois,
                                       const std::optional<at::Tensor>& offsets,
                                       MMPSLA_DEFORM_ARGS) {
  const Checked c = check_forward(x, rois, offsets, MMPSLA_DEFORM_PASS, true);
  TORCH_CHECK(x.device().is_cpu(), "the CUDA kernels run on the CPU take CPU tensors");
  return deform_ps_roi_pool_forward_cuda_kernels_on_cpu(c.x, c.rois, c.offsets, c.args);
}

std::vector<at::Tensor> backward_cuda_kernels_on_cpu(const at::Tensor& grad_out,
                                                     const at::Tensor& x, const at::Tensor& rois,
                                                     const std::optional<at::Tensor>& offsets,
                                                     MMPSLA_DEFORM_ARGS) {
  const Checked c = check_backward(grad_out, x, rois, offsets, MMPSLA_DEFORM_PASS, true);
  TORCH_CHECK(x.device().is_cpu(), "the CUDA kernels run on the CPU take CPU tensors");
  return deform_ps_roi_pool_backward_cuda_kernels_on_cpu(grad_out.contiguous(), c.x, c.rois,
                                                         c.offsets, c.args);
}

}  // namespace

void bind_deform_ps_roi_pool(pybind11::module& m) {
  using pybind11::arg;
  m.def("deform_ps_roi_pool_forward", &forward,
        "Deformable PS-RoI pooling forward -> out (N, C, kh, kw)", arg("x"), arg("rois"),
        arg("offsets"), arg("pooled_height"), arg("pooled_width"), arg("spatial_scale"),
        arg("part_size"), arg("sample_per_part"), arg("trans_std"));
  m.def("deform_ps_roi_pool_backward", &backward,
        "Deformable PS-RoI pooling backward -> [grad_x, grad_offsets (None without offsets)]",
        arg("grad_out"), arg("x"), arg("rois"), arg("offsets"), arg("pooled_height"),
        arg("pooled_width"), arg("spatial_scale"), arg("part_size"), arg("sample_per_part"),
        arg("trans_std"));
  m.def("_cuda_kernels_on_cpu_deform_ps_roi_pool_forward", &forward_cuda_kernels_on_cpu,
        "Test hook: the CUDA forward kernel run over its launch grid on the CPU", arg("x"),
        arg("rois"), arg("offsets"), arg("pooled_height"), arg("pooled_width"),
        arg("spatial_scale"), arg("part_size"), arg("sample_per_part"), arg("trans_std"));
  m.def("_cuda_kernels_on_cpu_deform_ps_roi_pool_backward", &backward_cuda_kernels_on_cpu,
        "Test hook: the CUDA backward kernel run over its launch grid on the CPU",
        arg("grad_out"), arg("x"), arg("rois"), arg("offsets"), arg("pooled_height"),
        arg("pooled_width"), arg("spatial_scale"), arg("part_size"), arg("sample_per_part"),
        arg("trans_std"));
}

}  // namespace mmpsla

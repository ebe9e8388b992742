// Python binding of the CPU NMS and the one place in C++ where its arguments are checked.
// The user-facing validation, with Python exceptions naming the argument, is
// mmpsla/ops/nms_op.py; these TORCH_CHECKs guard direct calls.
#include "nms.h"

namespace mmpsla {
namespace {

at::Tensor nms(const at::Tensor& boxes, const at::Tensor& scores, double iou_threshold,
               int64_t offset) {
  const char* op = "nms";
  TORCH_CHECK(boxes.device().is_cpu() && scores.device().is_cpu(), op,
              ": the compiled kernel is CPU only, got ", boxes.device());
  const auto dtype = boxes.scalar_type();
  TORCH_CHECK(dtype == at::kFloat || dtype == at::kDouble, op,
              ": boxes must be float32 or float64, got ", dtype);
  TORCH_CHECK(boxes.dim() == 2 && boxes.size(1) == 4, op, ": boxes must have shape (N, 4), got ",
              boxes.sizes());
  TORCH_CHECK(scores.dim() == 1 && scores.size(0) == boxes.size(0), op,
              ": scores must have shape (N,) with N = ", boxes.size(0), ", got ", scores.sizes());
  TORCH_CHECK(scores.scalar_type() == dtype, op, ": scores must have the boxes' dtype");
  TORCH_CHECK(offset == 0 || offset == 1, op, ": offset must be 0 or 1, got ", offset);
  return nms_cpu(boxes.contiguous(), scores.contiguous(), iou_threshold, offset);
}

}  // namespace

void bind_nms(pybind11::module& m) {
  using pybind11::arg;
  m.def("nms", &nms, "Non-maximum suppression on the CPU -> kept indices, highest score first",
        arg("boxes"), arg("scores"), arg("iou_threshold"), arg("offset"));
}

}  // namespace mmpsla

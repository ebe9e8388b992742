// Python bindings of mmpsla._ext, and the one place in C++ where the operator's arguments
// are checked (the launchers trust what the dispatchers below pass them). The user-facing
// validation, with Python exceptions naming the argument, is mmpsla/ops/validation.py; these
// TORCH_CHECKs guard direct calls into the extension.
#include <limits>
#include <optional>

#include "sparse_local_attention.h"

namespace mmpsla {
// deform_ps_roi_pool_bindings.cpp
void bind_deform_ps_roi_pool(pybind11::module& m);
// roi_align_bindings.cpp
void bind_roi_align(pybind11::module& m);
// nms_bindings.cpp
void bind_nms(pybind11::module& m);
}  // namespace mmpsla

namespace mmpsla {
namespace {

bool is_cuda_dtype(at::ScalarType s) {
  return s == at::kFloat || s == at::kDouble || s == at::kHalf || s == at::kBFloat16;
}

// Checks the forward arguments and returns the offsets as host (dy, dx) int pairs.
// cuda_kernels: the arguments go to the CUDA kernels (on the GPU, or run on the CPU).
Offsets check_forward(const at::Tensor& query, const at::Tensor& key, const at::Tensor& value,
                      const at::Tensor& offsets, int64_t normalize, bool cuda_kernels = false) {
  TORCH_CHECK(query.dim() == 4, "psla: query must be 4-D (B, C, H, W), got ", query.dim(), "-D");
  TORCH_CHECK(key.dim() == 4, "psla: key must be 4-D (B, C, H, W), got ", key.dim(), "-D");
  TORCH_CHECK(value.dim() == 4, "psla: value must be 4-D (B, Cv, H, W), got ", value.dim(), "-D");
  TORCH_CHECK(key.sizes() == query.sizes(), "psla: key must have the shape of query ",
              query.sizes(), ", got ", key.sizes());
  TORCH_CHECK(value.size(0) == query.size(0) && value.size(2) == query.size(2) &&
                  value.size(3) == query.size(3),
              "psla: value must have the batch and spatial size of query ", query.sizes(),
              ", got ", value.sizes());
  TORCH_CHECK(key.scalar_type() == query.scalar_type() &&
                  value.scalar_type() == query.scalar_type(),
              "psla: query, key and value must share one dtype, got ", query.scalar_type(), ", ",
              key.scalar_type(), ", ", value.scalar_type());
  TORCH_CHECK(key.device() == query.device() && value.device() == query.device(),
              "psla: query, key and value must be on one device, got ", query.device(), ", ",
              key.device(), ", ", value.device());
  const auto dtype = query.scalar_type();
  if (query.is_cuda() || cuda_kernels) {
    TORCH_CHECK(query.is_cuda() || query.device().is_cpu(),
                "psla: query must be a CPU or CUDA tensor, got ", query.device());
    TORCH_CHECK(is_cuda_dtype(dtype),
                "psla (CUDA): query must be float32, float64, float16 or bfloat16, got ", dtype);
  } else {
    TORCH_CHECK(query.device().is_cpu(), "psla: query must be a CPU or CUDA tensor, got ",
                query.device());
    TORCH_CHECK(dtype == at::kFloat || dtype == at::kDouble,
                "psla (CPU): query must be float32 or float64, got ", dtype);
  }
  TORCH_CHECK(offsets.dim() == 2 && offsets.size(1) == 2 && offsets.size(0) > 0,
              "psla: offsets must have shape (N, 2) with N >= 1, got ", offsets.sizes());
  TORCH_CHECK(at::isIntegralType(offsets.scalar_type(), /*includeBool=*/false),
              "psla: offsets must be an integer tensor, got ", offsets.scalar_type());
  TORCH_CHECK(normalize == static_cast<int64_t>(Normalize::kSoftmax) ||
                  normalize == static_cast<int64_t>(Normalize::kSum),
              "psla: normalize must be 0 (softmax) or 1 (sum), got ", normalize);
  TORCH_CHECK(offsets.size(0) * query.size(2) * query.size(3) < (int64_t(1) << 31) &&
                  value.numel() < (int64_t(1) << 31) * 64 && query.size(3) < (1 << 24),
              "psla: tensors too large (N * H * W must be below 2^31)");

  const at::Tensor host = offsets.to(at::kCPU, at::kLong).contiguous();
  const int64_t* data = host.data_ptr<int64_t>();
  const int64_t limit = std::numeric_limits<int>::max() / 2;
  Offsets out;
  out.reserve(static_cast<size_t>(host.size(0)));
  for (int64_t i = 0; i < host.size(0); ++i) {
    const int64_t dy = data[2 * i], dx = data[2 * i + 1];
    TORCH_CHECK(dy > -limit && dy < limit && dx > -limit && dx < limit,
                "psla: offsets out of range at row ", i);
    out.emplace_back(static_cast<int>(dy), static_cast<int>(dx));
  }
  return out;
}

// Checks the backward arguments (on top of the forward ones); returns the offsets.
Offsets check_backward(const at::Tensor& grad_out, const std::optional<at::Tensor>& grad_weights,
                       const at::Tensor& query, const at::Tensor& key, const at::Tensor& value,
                       const at::Tensor& offsets, const at::Tensor& weights,
                       const at::Tensor& denom, int64_t normalize, bool cuda_kernels = false) {
  Offsets offs = check_forward(query, key, value, offsets, normalize, cuda_kernels);
  const int64_t B = query.size(0), H = query.size(2), W = query.size(3);
  const int64_t N = static_cast<int64_t>(offs.size());
  TORCH_CHECK(grad_out.sizes() == value.sizes(), "psla backward: grad_out must have shape ",
              value.sizes(), ", got ", grad_out.sizes());
  TORCH_CHECK(weights.sizes() == at::IntArrayRef({B, N, H, W}),
              "psla backward: weights must have shape (B, N, H, W) = ", at::IntArrayRef({B, N, H, W}),
              ", got ", weights.sizes());
  TORCH_CHECK(denom.sizes() == at::IntArrayRef({B, H, W}),
              "psla backward: denom must have shape (B, H, W), got ", denom.sizes());
  if (grad_weights.has_value() && grad_weights->defined()) {
    TORCH_CHECK(grad_weights->sizes() == weights.sizes(),
                "psla backward: grad_weights must have shape (B, N, H, W), got ",
                grad_weights->sizes());
  }
  for (const at::Tensor* t : {&grad_out, &weights, &denom}) {
    TORCH_CHECK(t->device() == query.device(), "psla backward: every tensor must be on ",
                query.device(), ", got ", t->device());
  }
  return offs;
}

at::Tensor defined_or_empty(const std::optional<at::Tensor>& t) {
  return t.has_value() ? *t : at::Tensor();
}

#ifndef MMPSLA_WITH_CUDA
[[noreturn]] void no_cuda() {
  TORCH_CHECK(false, "psla: mmpsla._ext was built without CUDA; rebuild it on a CUDA machine "
                     "(FORCE_CUDA=1 make ext)");
}
#endif

std::vector<at::Tensor> forward(const at::Tensor& query, const at::Tensor& key,
                                const at::Tensor& value, const at::Tensor& offsets,
                                int64_t normalize) {
  const Offsets offs = check_forward(query, key, value, offsets, normalize);
  if (query.is_cuda()) {
#ifdef MMPSLA_WITH_CUDA
    return psla_forward_cuda(query, key, value, offs, normalize);
#else
    no_cuda();
#endif
  }
  return psla_forward_cpu(query, key, value, offs, normalize);
}

std::vector<at::Tensor> backward(const at::Tensor& grad_out,
                                 const std::optional<at::Tensor>& grad_weights,
                                 const at::Tensor& query, const at::Tensor& key,
                                 const at::Tensor& value, const at::Tensor& offsets,
                                 const at::Tensor& weights, const at::Tensor& denom,
                                 int64_t normalize) {
  const Offsets offs = check_backward(grad_out, grad_weights, query, key, value, offsets,
                                      weights, denom, normalize);
  const at::Tensor gw = defined_or_empty(grad_weights);
  if (query.is_cuda()) {
#ifdef MMPSLA_WITH_CUDA
    return psla_backward_cuda(grad_out, gw, query, key, value, offs, weights, denom, normalize);
#else
    no_cuda();
#endif
  }
  return psla_backward_cpu(grad_out, gw, query, key, value, offs, weights, denom, normalize);
}

std::vector<at::Tensor> forward_cuda_kernels_on_cpu(const at::Tensor& query, const at::Tensor& key,
                                                    const at::Tensor& value,
                                                    const at::Tensor& offsets,
                                                    int64_t normalize) {
  const Offsets offs = check_forward(query, key, value, offsets, normalize, true);
  TORCH_CHECK(query.device().is_cpu(), "psla: the CUDA kernels run on the CPU take CPU tensors");
  return psla_forward_cuda_kernels_on_cpu(query, key, value, offs, normalize);
}

std::vector<at::Tensor> backward_cuda_kernels_on_cpu(
    const at::Tensor& grad_out, const std::optional<at::Tensor>& grad_weights,
    const at::Tensor& query, const at::Tensor& key, const at::Tensor& value,
    const at::Tensor& offsets, const at::Tensor& weights, const at::Tensor& denom,
    int64_t normalize) {
  const Offsets offs = check_backward(grad_out, grad_weights, query, key, value, offsets,
                                      weights, denom, normalize, true);
  TORCH_CHECK(query.device().is_cpu(), "psla: the CUDA kernels run on the CPU take CPU tensors");
  return psla_backward_cuda_kernels_on_cpu(grad_out, defined_or_empty(grad_weights), query, key,
                                           value, offs, weights, denom, normalize);
}

bool has_cuda() {
#ifdef MMPSLA_WITH_CUDA
  return true;
#else
  return false;
#endif
}

}  // namespace
}  // namespace mmpsla

PYBIND11_MODULE(TORCH_EXTENSION_NAME, m) {
  m.doc() = "Compiled PSLA operator and deformable position-sensitive RoI pooling";
  m.def("forward", &mmpsla::forward,
        "PSLA forward -> [out (B,Cv,H,W), weights (B,N,H,W), denom (B,H,W)]", py::arg("query"),
        py::arg("key"), py::arg("value"), py::arg("offsets"), py::arg("normalize"));
  m.def("backward", &mmpsla::backward, "PSLA backward -> [grad_query, grad_key, grad_value]",
        py::arg("grad_out"), py::arg("grad_weights"), py::arg("query"), py::arg("key"),
        py::arg("value"), py::arg("offsets"), py::arg("weights"), py::arg("denom"),
        py::arg("normalize"));
  m.def("has_cuda", &mmpsla::has_cuda, "Whether the CUDA kernels were compiled in");
  m.def("source_hash", &mmpsla::source_hash,
        "Fingerprint of the ops/csrc sources this extension was built from");
  m.def("_cuda_kernels_on_cpu_forward", &mmpsla::forward_cuda_kernels_on_cpu,
        "Test hook: the CUDA forward kernels run over their launch grid on the CPU",
        py::arg("query"), py::arg("key"), py::arg("value"), py::arg("offsets"),
        py::arg("normalize"));
  m.def("_cuda_kernels_on_cpu_backward", &mmpsla::backward_cuda_kernels_on_cpu,
        "Test hook: the CUDA backward kernels run over their launch grid on the CPU",
        py::arg("grad_out"), py::arg("grad_weights"), py::arg("query"), py::arg("key"),
        py::arg("value"), py::arg("offsets"), py::arg("weights"), py::arg("denom"),
        py::arg("normalize"));
  m.def("_set_cpu_isa", &mmpsla::set_cpu_isa,
        "Test hook: force the CPU kernels' ISA ('base', 'avx2', 'avx512'; '' keeps it); returns "
        "the previous one",
        py::arg("name"));
  mmpsla::bind_deform_ps_roi_pool(m);
  mmpsla::bind_roi_align(m);
  mmpsla::bind_nms(m);
}

// Python bindings of mmpsla._ext and the checks shared by the CPU and CUDA paths.
// The user-facing validation (with Python exceptions naming the argument) lives in
// mmpsla/ops/validation.py; these TORCH_CHECKs guard direct calls into the extension.
#include <limits>

#include "sparse_local_attention.h"

namespace mmpsla {

void check_forward_inputs(const at::Tensor& query, const at::Tensor& key,
                          const at::Tensor& value, const at::Tensor& offsets,
                          int64_t normalize) {
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
  TORCH_CHECK(offsets.dim() == 2 && offsets.size(1) == 2 && offsets.size(0) > 0,
              "psla: offsets must have shape (N, 2) with N >= 1, got ", offsets.sizes());
  TORCH_CHECK(at::isIntegralType(offsets.scalar_type(), /*includeBool=*/false),
              "psla: offsets must be an integer tensor, got ", offsets.scalar_type());
  TORCH_CHECK(normalize == static_cast<int64_t>(Normalize::kSoftmax) ||
                  normalize == static_cast<int64_t>(Normalize::kSum),
              "psla: normalize must be 0 (softmax) or 1 (sum), got ", normalize);
}

std::vector<std::pair<int, int>> offsets_to_host(const at::Tensor& offsets) {
  const at::Tensor host = offsets.to(at::kCPU, at::kLong).contiguous();
  const int64_t* data = host.data_ptr<int64_t>();
  const int64_t limit = std::numeric_limits<int>::max() / 2;
  std::vector<std::pair<int, int>> out;
  out.reserve(static_cast<size_t>(host.size(0)));
  for (int64_t i = 0; i < host.size(0); ++i) {
    const int64_t dy = data[2 * i], dx = data[2 * i + 1];
    TORCH_CHECK(dy > -limit && dy < limit && dx > -limit && dx < limit,
                "psla: offsets out of range at row ", i);
    out.emplace_back(static_cast<int>(dy), static_cast<int>(dx));
  }
  return out;
}

namespace {

std::vector<at::Tensor> forward(const at::Tensor& query, const at::Tensor& key,
                                const at::Tensor& value, const at::Tensor& offsets,
                                int64_t normalize) {
  if (query.is_cuda()) {
#ifdef MMPSLA_WITH_CUDA
    return psla_forward_cuda(query, key, value, offsets, normalize);
#else
    TORCH_CHECK(false, "psla: mmpsla._ext was built without CUDA; rebuild on a CUDA machine");
#endif
  }
  return psla_forward_cpu(query, key, value, offsets, normalize);
}

std::vector<at::Tensor> backward(const at::Tensor& grad_out,
                                 const std::optional<at::Tensor>& grad_weights,
                                 const at::Tensor& query, const at::Tensor& key,
                                 const at::Tensor& value, const at::Tensor& offsets,
                                 const at::Tensor& weights, const at::Tensor& denom,
                                 int64_t normalize) {
  if (query.is_cuda()) {
#ifdef MMPSLA_WITH_CUDA
    return psla_backward_cuda(grad_out, grad_weights, query, key, value, offsets, weights, denom,
                              normalize);
#else
    TORCH_CHECK(false, "psla: mmpsla._ext was built without CUDA; rebuild on a CUDA machine");
#endif
  }
  return psla_backward_cpu(grad_out, grad_weights, query, key, value, offsets, weights, denom,
                           normalize);
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
  m.doc() = "Compiled Progressive Sparse Local Attention (PSLA) operator";
  m.def("forward", &mmpsla::forward,
        "PSLA forward -> [out (B,Cv,H,W), weights (B,N,H,W), denom (B,H,W)]", py::arg("query"),
        py::arg("key"), py::arg("value"), py::arg("offsets"), py::arg("normalize"));
  m.def("backward", &mmpsla::backward, "PSLA backward -> [grad_query, grad_key, grad_value]",
        py::arg("grad_out"), py::arg("grad_weights"), py::arg("query"), py::arg("key"),
        py::arg("value"), py::arg("offsets"), py::arg("weights"), py::arg("denom"),
        py::arg("normalize"));
  m.def("has_cuda", &mmpsla::has_cuda, "Whether the CUDA kernels were compiled in");
}

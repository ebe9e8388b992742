// Non-maximum suppression on the CPU (the CUDA path of mmpsla.ops.nms is mmcv's kernel):
// the declaration shared by the CPU kernel and the Python bindings.
//
// Semantics: those of mmcv's nms kernel (mmcv.ops.nms without its score_threshold / max_num,
// which mmpsla/ops/nms_op.py applies around this call). Shapes (contiguous): boxes (N, 4)
// (x1, y1, x2, y2), scores (N,), both float32 or float64. The boxes are visited in the order
// of scores.sort(descending=True) (the same call as mmcv's, so ties fall alike); a visited box
// that is still alive is kept and removes every later box whose overlap with it,
//   inter / (area_i + area_j - inter),  inter = max(0, min(x2) - max(x1) + offset) * (y alike),
//   area = (x2 - x1 + offset) * (y2 - y1 + offset),
// is greater than iou_threshold (all in the boxes' dtype). Returns the kept boxes' indices
// (int64), highest score first.
#pragma once

#include <torch/extension.h>

namespace mmpsla {

// Inputs validated by nms_bindings.cpp (CPU, contiguous, scores in the boxes' dtype).
at::Tensor nms_cpu(const at::Tensor& boxes, const at::Tensor& scores, double iou_threshold,
                   int64_t offset);

}  // namespace mmpsla

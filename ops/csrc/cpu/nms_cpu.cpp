// CPU non-maximum suppression with mmcv's semantics (see ../nms.h), laid out for the vector
// units: the boxes are gathered once into score order as five contiguous arrays (x1, y1, x2,
// y2, area), so the overlap of a kept box with all later ones is one branch-free loop over
// contiguous memory that the compiler vectorises (mmcv's loop indexes every box through the
// sort order and branches on each). The arithmetic is mmcv's, operation for operation and
// in the same dtype, so the kept set is identical.
#include <algorithm>
#include <cstdint>
#include <vector>

#include "../nms.h"

namespace mmpsla {
namespace {

template <typename T>
at::Tensor nms_sorted(const at::Tensor& boxes, const at::Tensor& order_t, T threshold,
                      T offset) {
  const int64_t n = boxes.size(0);
  const T* b = boxes.data_ptr<T>();
  const int64_t* order = order_t.data_ptr<int64_t>();
  std::vector<T> x1(n), y1(n), x2(n), y2(n), area(n);
  for (int64_t k = 0; k < n; ++k) {
    const T* box = b + 4 * order[k];
    x1[k] = box[0];
    y1[k] = box[1];
    x2[k] = box[2];
    y2[k] = box[3];
    area[k] = (x2[k] - x1[k] + offset) * (y2[k] - y1[k] + offset);
  }
  // removed[k] != 0: box k (in score order) overlaps a kept box with a higher score
  std::vector<int32_t> removed(n, 0);
  std::vector<int64_t> keep;
  keep.reserve(n);
  const T zero = T(0);
  for (int64_t i = 0; i < n; ++i) {
    if (removed[i]) continue;
    keep.push_back(order[i]);
    const T ix1 = x1[i], iy1 = y1[i], ix2 = x2[i], iy2 = y2[i], iarea = area[i];
    const T* __restrict px1 = x1.data();
    const T* __restrict py1 = y1.data();
    const T* __restrict px2 = x2.data();
    const T* __restrict py2 = y2.data();
    const T* __restrict parea = area.data();
    int32_t* __restrict prem = removed.data();
    for (int64_t j = i + 1; j < n; ++j) {
      const T xx1 = std::max(ix1, px1[j]);
      const T yy1 = std::max(iy1, py1[j]);
      const T xx2 = std::min(ix2, px2[j]);
      const T yy2 = std::min(iy2, py2[j]);
      const T w = std::max(zero, xx2 - xx1 + offset);
      const T h = std::max(zero, yy2 - yy1 + offset);
      const T inter = w * h;
      const T overlap = inter / (iarea + parea[j] - inter);
      prem[j] |= static_cast<int32_t>(overlap > threshold);
    }
  }
  return at::tensor(keep, boxes.options().dtype(at::kLong));
}

}  // namespace

at::Tensor nms_cpu(const at::Tensor& boxes, const at::Tensor& scores, double iou_threshold,
                   int64_t offset) {
  if (boxes.size(0) == 0) return at::empty({0}, boxes.options().dtype(at::kLong));
  const at::Tensor order = std::get<1>(scores.sort(0, /*descending=*/true));
  if (boxes.scalar_type() == at::kDouble) {
    return nms_sorted<double>(boxes, order, iou_threshold, static_cast<double>(offset));
  }
  // float32: the threshold as a float, as mmcv's kernel receives it
  return nms_sorted<float>(boxes, order, static_cast<float>(iou_threshold),
                           static_cast<float>(offset));
}

}  // namespace mmpsla

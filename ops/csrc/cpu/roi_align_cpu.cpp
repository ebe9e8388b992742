// CPU RoIAlign (avg pooling), the semantics of mmcv.ops.roi_align (see
// mmpsla/ops/roi_align_op.py), restructured for the vector units: the map is read
// channels-last, so every bilinear sample is four weighted rows of C contiguous channels
// (one vectorisable loop) instead of C strided scalar reads per corner.
//
//   forward : tasks = RoIs; per bin, acc[c] = sum over samples and corners of w * x[y][x][c];
//             out[r][c][ph][pw] = acc[c] / count.
//   backward: tasks = channel blocks (each owns its channels of grad_x for all RoIs, so
//             nothing is shared between threads); the transposed scatter of the forward.
#include <ATen/Parallel.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "../roi_align.h"

namespace mmpsla {
namespace {

// One bilinear sample: the flat (y * W + x) positions of its four corners and their weights;
// valid == false for a sample outside [-1, size] (it reads zero, as in mmcv).
template <typename T>
struct Sample {
  int64_t pos[4];
  T w[4];
  bool valid;
};

template <typename T>
Sample<T> bilinear(T y, T x, int64_t H, int64_t W) {
  Sample<T> s{};
  if (y < T(-1) || y > T(H) || x < T(-1) || x > T(W)) {
    s.valid = false;
    return s;
  }
  s.valid = true;
  y = std::max(y, T(0));
  x = std::max(x, T(0));
  int64_t y0 = static_cast<int64_t>(y), x0 = static_cast<int64_t>(x), y1, x1;
  if (y0 >= H - 1) {
    y0 = y1 = H - 1;
    y = T(y0);
  } else {
    y1 = y0 + 1;
  }
  if (x0 >= W - 1) {
    x0 = x1 = W - 1;
    x = T(x0);
  } else {
    x1 = x0 + 1;
  }
  const T ly = y - T(y0), lx = x - T(x0), hy = T(1) - ly, hx = T(1) - lx;
  s.pos[0] = y0 * W + x0;
  s.pos[1] = y0 * W + x1;
  s.pos[2] = y1 * W + x0;
  s.pos[3] = y1 * W + x1;
  s.w[0] = hy * hx;
  s.w[1] = hy * lx;
  s.w[2] = ly * hx;
  s.w[3] = ly * lx;
  return s;
}

// The samples of every bin of RoI r (bin-major: bin (ph, pw) owns samples
// [first[bin], first[bin + 1])) and the RoI's image index and 1 / count.
template <typename T>
struct RoIGrid {
  std::vector<Sample<T>> samples;
  std::vector<int64_t> first;
  int64_t batch = 0;
  T inv_count = T(1);
};

template <typename T>
void roi_grid(const T* roi, const RoIAlignArgs& a, int64_t H, int64_t W, RoIGrid<T>& g) {
  const T offset = a.aligned ? T(0.5) : T(0);
  const T scale = static_cast<T>(a.spatial_scale);
  const T x1 = roi[1] * scale - offset, y1 = roi[2] * scale - offset;
  T rw = roi[3] * scale - offset - x1, rh = roi[4] * scale - offset - y1;
  if (!a.aligned) {
    rw = std::max(rw, T(1));
    rh = std::max(rh, T(1));
  }
  const int64_t PH = a.pooled_height, PW = a.pooled_width;
  const T bh = rh / T(PH), bw = rw / T(PW);
  const int64_t gh = a.sampling_ratio > 0 ? a.sampling_ratio
                                          : static_cast<int64_t>(std::ceil(rh / T(PH)));
  const int64_t gw = a.sampling_ratio > 0 ? a.sampling_ratio
                                          : static_cast<int64_t>(std::ceil(rw / T(PW)));
  g.batch = static_cast<int64_t>(roi[0]);
  g.inv_count = T(1) / T(std::max<int64_t>(gh * gw, 1));
  g.samples.clear();
  g.first.assign(1, 0);
  for (int64_t ph = 0; ph < PH; ++ph) {
    for (int64_t pw = 0; pw < PW; ++pw) {
      for (int64_t iy = 0; iy < gh; ++iy) {
        const T y = y1 + T(ph) * bh + (T(iy) + T(0.5)) * bh / T(gh);
        for (int64_t ix = 0; ix < gw; ++ix) {
          const T x = x1 + T(pw) * bw + (T(ix) + T(0.5)) * bw / T(gw);
          const Sample<T> s = bilinear(y, x, H, W);
          if (s.valid) g.samples.push_back(s);
        }
      }
      g.first.push_back(static_cast<int64_t>(g.samples.size()));
    }
  }
}

template <typename T>
void forward_kernel(const T* xt, const T* rois, T* out, int64_t N, int64_t C, int64_t H,
                    int64_t W, int64_t R, const RoIAlignArgs& a) {
  const int64_t bins = a.pooled_height * a.pooled_width;
  // RoIs per task: at least ~256k sample-channel reads (the toy head's 30 RoIs of 49 bins x
  // 128 channels stay on one thread: waking a second costs more than it saves)
  const int64_t grain = std::max<int64_t>(1, (int64_t(1) << 18) / std::max<int64_t>(1, bins * C));
  at::parallel_for(0, R, grain, [&](int64_t begin, int64_t end) {
    RoIGrid<T> g;
    std::vector<T> acc(C);
    for (int64_t r = begin; r < end; ++r) {
      roi_grid(rois + r * 5, a, H, W, g);
      T* o = out + r * C * bins;
      if (g.batch < 0 || g.batch >= N) {  // rejected by the Python layer; zeros here
        std::fill(o, o + C * bins, T(0));
        continue;
      }
      const T* img = xt + g.batch * H * W * C;
      for (int64_t bin = 0; bin < bins; ++bin) {
        std::fill(acc.begin(), acc.end(), T(0));
        T* __restrict__ accp = acc.data();
        for (int64_t k = g.first[bin]; k < g.first[bin + 1]; ++k) {
          const Sample<T>& s = g.samples[k];
          const T* __restrict__ r0 = img + s.pos[0] * C;
          const T* __restrict__ r1 = img + s.pos[1] * C;
          const T* __restrict__ r2 = img + s.pos[2] * C;
          const T* __restrict__ r3 = img + s.pos[3] * C;
          const T w0 = s.w[0], w1 = s.w[1], w2 = s.w[2], w3 = s.w[3];
          for (int64_t c = 0; c < C; ++c) {
            accp[c] += w0 * r0[c] + w1 * r1[c] + w2 * r2[c] + w3 * r3[c];
          }
        }
        for (int64_t c = 0; c < C; ++c) o[c * bins + bin] = accp[c] * g.inv_count;
      }
    }
  });
}

template <typename T>
void backward_kernel(const T* grad_out, const T* rois, T* gxt, int64_t N, int64_t C, int64_t H,
                     int64_t W, int64_t R, const RoIAlignArgs& a) {
  const int64_t bins = a.pooled_height * a.pooled_width;
  // the sample grids, computed once and shared by the channel blocks
  std::vector<RoIGrid<T>> grids(R);
  at::parallel_for(0, R, 16, [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) roi_grid(rois + r * 5, a, H, W, grids[r]);
  });
  constexpr int64_t kBlock = 16;  // channels per task
  const int64_t blocks = (C + kBlock - 1) / kBlock;
  // channel blocks per task: at least ~256k sample-channel writes, as in the forward
  const int64_t work = std::max<int64_t>(1, R * bins * kBlock);
  at::parallel_for(0, blocks, std::max<int64_t>(1, (int64_t(1) << 18) / work),
                   [&](int64_t begin, int64_t end) {
    T g[kBlock];
    for (int64_t blk = begin; blk < end; ++blk) {
      const int64_t c0 = blk * kBlock, nc = std::min(kBlock, C - c0);
      for (int64_t r = 0; r < R; ++r) {
        const RoIGrid<T>& grid = grids[r];
        if (grid.batch < 0 || grid.batch >= N) continue;
        T* img = gxt + grid.batch * H * W * C + c0;
        const T* go = grad_out + (r * C + c0) * bins;
        for (int64_t bin = 0; bin < bins; ++bin) {
          for (int64_t c = 0; c < nc; ++c) g[c] = go[c * bins + bin] * grid.inv_count;
          for (int64_t k = grid.first[bin]; k < grid.first[bin + 1]; ++k) {
            const Sample<T>& s = grid.samples[k];
            for (int corner = 0; corner < 4; ++corner) {
              T* __restrict__ row = img + s.pos[corner] * C;
              const T w = s.w[corner];
              for (int64_t c = 0; c < nc; ++c) row[c] += w * g[c];
            }
          }
        }
      }
    }
  });
}

}  // namespace

at::Tensor roi_align_forward_cpu(const at::Tensor& x, const at::Tensor& rois,
                                 const RoIAlignArgs& args) {
  const int64_t N = x.size(0), C = x.size(1), H = x.size(2), W = x.size(3), R = rois.size(0);
  at::Tensor out = at::empty({R, C, args.pooled_height, args.pooled_width}, x.options());
  if (R == 0 || C == 0) return out;
  const at::Tensor xt = x.permute({0, 2, 3, 1}).contiguous();  // (N, H, W, C)
  AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "roi_align_forward_cpu", [&] {
    forward_kernel<scalar_t>(xt.data_ptr<scalar_t>(), rois.data_ptr<scalar_t>(),
                             out.data_ptr<scalar_t>(), N, C, H, W, R, args);
  });
  return out;
}

at::Tensor roi_align_backward_cpu(const at::Tensor& grad_out, const at::Tensor& rois,
                                  const std::vector<int64_t>& x_shape,
                                  const RoIAlignArgs& args) {
  const int64_t N = x_shape[0], C = x_shape[1], H = x_shape[2], W = x_shape[3];
  at::Tensor gxt = at::zeros({N, H, W, C}, grad_out.options());
  if (rois.size(0) > 0 && C > 0) {
    AT_DISPATCH_FLOATING_TYPES(grad_out.scalar_type(), "roi_align_backward_cpu", [&] {
      backward_kernel<scalar_t>(grad_out.data_ptr<scalar_t>(), rois.data_ptr<scalar_t>(),
                                gxt.data_ptr<scalar_t>(), N, C, H, W, rois.size(0), args);
    });
  }
  return gxt.permute({0, 3, 1, 2}).contiguous();
}

}  // namespace mmpsla

// CPU kernels of deformable PS-RoI pooling (semantics in ../deform_ps_roi_pool.h). The
// sampling maths (bin geometry, border rule, bilinear read and its derivatives) is the CUDA
// kernels' (cuda/deform_ps_roi_pool_kernel.cuh, compiled here by the host compiler); what
// differs is the loop order. A bin's S x S sample grid is separable, so the valid samples
// along y and along x are computed once per (RoI, bin, offset class) and reused by the
// C / T channels of that offset class.
//
// Parallelisation (at::parallel_for), without atomics and deterministic:
//   forward            tasks are RoIs (a task owns its output rows);
//   backward, map      tasks are (batch, bin) pairs: the gradient planes of bin (i, j) of
//                      image b, channels (i * kw + j) * C .. + C, are written only by that
//                      bin of the RoIs on image b, so a task owns its planes and loops over
//                      all RoIs (RoIs overlap, so a split over RoIs would race);
//   backward, offsets  tasks are RoIs (a RoI owns its offsets' gradient).
#include <ATen/Dispatch.h>
#include <ATen/Parallel.h>

#include <vector>

#include "cuda/deform_ps_roi_pool_launch.h"

namespace mmpsla {
namespace {

using cuda::DeformBin;
using cuda::DeformPSRoIParams;
using cuda::SampleAxis;

// The valid samples of one bin along y and along x.
template <typename A>
struct BinSamples {
  std::vector<SampleAxis<A>> ys, xs;

  template <typename T>
  void set(const DeformPSRoIParams<T, A>& p, const DeformBin<A>& g) {
    ys.clear();
    xs.clear();
    for (int s = 0; s < p.S; ++s) {
      const SampleAxis<A> ay = cuda::sample_axis(g.y0 + static_cast<A>(s) * g.step_y, p.H);
      const SampleAxis<A> ax = cuda::sample_axis(g.x0 + static_cast<A>(s) * g.step_x, p.W);
      if (ay.valid) ys.push_back(ay);
      if (ax.valid) xs.push_back(ax);
    }
  }
  int count() const { return static_cast<int>(ys.size() * xs.size()); }
};

template <typename T>
int64_t out_offset(const DeformPSRoIParams<T, T>& p, int n, int c, int i, int j) {
  return ((static_cast<int64_t>(n) * p.C + c) * p.kh + i) * p.kw + j;
}

template <typename T>
void forward(const DeformPSRoIParams<T, T>& p, T* out) {
  const int per_class = p.C / p.num_trans;
  const int64_t HW = static_cast<int64_t>(p.H) * p.W;
  at::parallel_for(0, p.N, 1, [&](int64_t begin, int64_t end) {
    BinSamples<T> bin;
    for (int n = static_cast<int>(begin); n < end; ++n) {
      for (int t = 0; t < p.num_trans; ++t) {
        for (int i = 0; i < p.kh; ++i) {
          for (int j = 0; j < p.kw; ++j) {
            const DeformBin<T> g = cuda::deform_bin(p, n, t, i, j);
            if (g.b >= 0) bin.set(p, g);
            const int count = g.b >= 0 ? bin.count() : 0;
            for (int c = t * per_class; c < (t + 1) * per_class; ++c) {
              T sum = 0;
              if (count > 0) {
                const T* plane = p.x + cuda::plane_index(p, g.b, c, i, j) * HW;
                for (const auto& ay : bin.ys) {
                  for (const auto& ax : bin.xs) sum += cuda::bilinear(plane, p.W, ay, ax);
                }
                sum /= static_cast<T>(count);
              }
              out[out_offset(p, n, c, i, j)] = sum;
            }
          }
        }
      }
    }
  });
}

template <typename T>
void backward_map(const DeformPSRoIParams<T, T>& p, const T* grad_out, T* grad_x) {
  const int per_class = p.C / p.num_trans;
  const int64_t HW = static_cast<int64_t>(p.H) * p.W;
  const int bins = p.kh * p.kw;
  at::parallel_for(0, static_cast<int64_t>(p.B) * bins, 1, [&](int64_t begin, int64_t end) {
    BinSamples<T> bin;
    for (int64_t task = begin; task < end; ++task) {
      const int b = static_cast<int>(task / bins), i = static_cast<int>(task % bins) / p.kw,
                j = static_cast<int>(task % bins) % p.kw;
      for (int n = 0; n < p.N; ++n) {
        for (int t = 0; t < p.num_trans; ++t) {
          const DeformBin<T> g = cuda::deform_bin(p, n, t, i, j);
          if (g.b != b) break;  // the batch index does not depend on t
          bin.set(p, g);
          const int count = bin.count();
          if (count == 0) continue;
          for (int c = t * per_class; c < (t + 1) * per_class; ++c) {
            const T w = grad_out[out_offset(p, n, c, i, j)] / static_cast<T>(count);
            if (w == T(0)) continue;
            T* plane = grad_x + cuda::plane_index(p, b, c, i, j) * HW;
            for (const auto& ay : bin.ys) {
              for (const auto& ax : bin.xs) cuda::scatter_sample(plane, p.W, ay, ax, w);
            }
          }
        }
      }
    }
  });
}

template <typename T>
void backward_offsets(const DeformPSRoIParams<T, T>& p, const T* grad_out, T* grad_offsets) {
  const int per_class = p.C / p.num_trans;
  const int64_t HW = static_cast<int64_t>(p.H) * p.W;
  const int64_t PP = static_cast<int64_t>(p.P) * p.P;
  at::parallel_for(0, p.N, 1, [&](int64_t begin, int64_t end) {
    BinSamples<T> bin;
    for (int n = static_cast<int>(begin); n < end; ++n) {
      for (int t = 0; t < p.num_trans; ++t) {
        T* go = grad_offsets + (static_cast<int64_t>(n) * p.num_trans + t) * 2 * PP;
        for (int i = 0; i < p.kh; ++i) {
          for (int j = 0; j < p.kw; ++j) {
            const DeformBin<T> g = cuda::deform_bin(p, n, t, i, j);
            if (g.b < 0) continue;
            bin.set(p, g);
            const int count = bin.count();
            if (count == 0) continue;
            T gx = 0, gy = 0;
            for (int c = t * per_class; c < (t + 1) * per_class; ++c) {
              const T w = grad_out[out_offset(p, n, c, i, j)];
              if (w == T(0)) continue;
              const T* plane = p.x + cuda::plane_index(p, g.b, c, i, j) * HW;
              T dx = 0, dy = 0;
              for (const auto& ay : bin.ys) {
                for (const auto& ax : bin.xs) {
                  cuda::sample_position_grad(plane, p.W, ay, ax, &dx, &dy);
                }
              }
              gx += w * dx;
              gy += w * dy;
            }
            go[g.part] += gx / static_cast<T>(count) * g.dx_doff;
            go[PP + g.part] += gy / static_cast<T>(count) * g.dy_doff;
          }
        }
      }
    }
  });
}

}  // namespace

at::Tensor deform_ps_roi_pool_forward_cpu(const at::Tensor& x, const at::Tensor& rois,
                                          const at::Tensor& offsets,
                                          const DeformPSRoIPoolArgs& args) {
  at::Tensor out;
  AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "deform_ps_roi_pool_forward_cpu", [&] {
    const auto p = cuda::deform_params<scalar_t, scalar_t, scalar_t>(x, rois, offsets, args);
    out = at::empty({p.N, p.C, p.kh, p.kw}, x.options());
    if (out.numel() > 0) forward(p, out.data_ptr<scalar_t>());
  });
  return out;
}

std::vector<at::Tensor> deform_ps_roi_pool_backward_cpu(const at::Tensor& grad_out,
                                                        const at::Tensor& x,
                                                        const at::Tensor& rois,
                                                        const at::Tensor& offsets,
                                                        const DeformPSRoIPoolArgs& args) {
  at::Tensor grad_x = at::zeros_like(x);
  at::Tensor grad_offsets = offsets.defined() ? at::zeros_like(offsets) : at::Tensor();
  AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "deform_ps_roi_pool_backward_cpu", [&] {
    const auto p = cuda::deform_params<scalar_t, scalar_t, scalar_t>(x, rois, offsets, args);
    if (p.N == 0) return;
    const scalar_t* g = grad_out.data_ptr<scalar_t>();
    backward_map(p, g, grad_x.data_ptr<scalar_t>());
    if (grad_offsets.defined()) backward_offsets(p, g, grad_offsets.data_ptr<scalar_t>());
  });
  return {grad_x, grad_offsets};
}

}  // namespace mmpsla

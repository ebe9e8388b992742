// CPU kernels of deformable PS-RoI pooling (semantics in ../deform_ps_roi_pool.h). The
// sampling maths (bin geometry, border rule, bilinear read and its derivatives) is the CUDA
// kernels' (cuda/deform_ps_roi_pool_kernel.cuh, compiled here by the host compiler); what
// differs is the loop order. A bin's S x S sample grid is separable, so the valid samples
// along y and along x are computed once per (RoI, bin, offset class) and reused by the
// C / T channels of that offset class.
//
// Loop order: plane-major. A task is a (batch b, bin (i, j)) pair; it builds the sample
// tables of its bin for every RoI on image b (per offset class), then for each channel c
// runs over all those RoIs on the one plane (b, (i * kw + j) * C + c), which stays in
// L1/L2 (RoI-major order reads a different 10 KB plane per channel and bin: cache misses).
//
// Parallelisation (at::parallel_for over the B * kh * kw tasks), without atomics and
// deterministic: a task owns its output elements (n, c, i, j), its gradient planes (RoIs
// overlap, so a split over RoIs would race on them) and its bins' offset gradients, which
// go to a (N, T, 2, kh, kw) per-bin buffer; a second pass, over RoIs, sums the bins of each
// part of the P x P offset grid.
#include <ATen/Dispatch.h>
#include <ATen/Parallel.h>

#include <vector>

#include "cuda/deform_ps_roi_pool_launch.h"

namespace mmpsla {
namespace {

using cuda::DeformBin;
using cuda::DeformPSRoIParams;
using cuda::SampleAxis;

// The valid samples of bin (i, j), offset class t, along y and along x, for every RoI on
// image b (RoI n: slots [n * 2S, n * 2S + ny[n]) for y, from n * 2S + S for x).
template <typename A>
struct BinTable {
  std::vector<SampleAxis<A>> axes;
  std::vector<int> ny, nx;
  std::vector<char> mine;  // the RoI is on image b
  std::vector<A> dx_doff, dy_doff;

  template <typename T>
  void build(const DeformPSRoIParams<T, A>& p, int b, int t, int i, int j) {
    const int S = p.S;
    axes.resize(static_cast<size_t>(p.N) * 2 * S);
    ny.assign(p.N, 0);
    nx.assign(p.N, 0);
    mine.assign(p.N, 0);
    dx_doff.resize(p.N);
    dy_doff.resize(p.N);
    for (int n = 0; n < p.N; ++n) {
      const DeformBin<A> g = cuda::deform_bin(p, n, t, i, j);
      if (g.b != b) continue;
      mine[n] = 1;
      dx_doff[n] = g.dx_doff;
      dy_doff[n] = g.dy_doff;
      SampleAxis<A>* ys = &axes[static_cast<size_t>(n) * 2 * S];
      SampleAxis<A>* xs = ys + S;
      for (int s = 0; s < S; ++s) {
        const SampleAxis<A> ay = cuda::sample_axis(g.y0 + static_cast<A>(s) * g.step_y, p.H);
        const SampleAxis<A> ax = cuda::sample_axis(g.x0 + static_cast<A>(s) * g.step_x, p.W);
        if (ay.valid) ys[ny[n]++] = ay;
        if (ax.valid) xs[nx[n]++] = ax;
      }
    }
  }
  const SampleAxis<A>* ys(int n, int S) const { return &axes[static_cast<size_t>(n) * 2 * S]; }
  const SampleAxis<A>* xs(int n, int S) const { return ys(n, S) + S; }
  int count(int n) const { return ny[n] * nx[n]; }
};

template <typename T>
int64_t out_offset(const DeformPSRoIParams<T, T>& p, int n, int c, int i, int j) {
  return ((static_cast<int64_t>(n) * p.C + c) * p.kh + i) * p.kw + j;
}

// Runs body(table, b, t, i, j) for every task's (batch, bin) and offset class, in parallel
// over the (batch, bin) tasks.
template <typename T, typename Body>
void for_each_bin(const DeformPSRoIParams<T, T>& p, const Body& body) {
  const int bins = p.kh * p.kw;
  at::parallel_for(0, static_cast<int64_t>(p.B) * bins, 1, [&](int64_t begin, int64_t end) {
    BinTable<T> table;
    for (int64_t task = begin; task < end; ++task) {
      const int b = static_cast<int>(task / bins), g = static_cast<int>(task % bins);
      for (int t = 0; t < p.num_trans; ++t) {
        table.build(p, b, t, g / p.kw, g % p.kw);
        body(table, b, t, g / p.kw, g % p.kw);
      }
    }
  });
}

template <typename T>
void forward(const DeformPSRoIParams<T, T>& p, T* out) {
  const int per_class = p.C / p.num_trans, S = p.S;
  const int64_t HW = static_cast<int64_t>(p.H) * p.W;
  for_each_bin(p, [&](const BinTable<T>& table, int b, int t, int i, int j) {
    for (int c = t * per_class; c < (t + 1) * per_class; ++c) {
      const T* plane = p.x + cuda::plane_index(p, b, c, i, j) * HW;
      for (int n = 0; n < p.N; ++n) {
        if (!table.mine[n]) continue;
        T sum = 0;
        const int count = table.count(n);
        if (count > 0) {
          const SampleAxis<T>*ys = table.ys(n, S), *xs = table.xs(n, S);
          for (int sy = 0; sy < table.ny[n]; ++sy) {
            for (int sx = 0; sx < table.nx[n]; ++sx) {
              sum += cuda::bilinear(plane, p.W, ys[sy], xs[sx]);
            }
          }
          sum /= static_cast<T>(count);
        }
        out[out_offset(p, n, c, i, j)] = sum;
      }
    }
  });
}

// bin_grad: (N, T, 2, kh, kw) zeros, or nullptr without offsets.
template <typename T>
void backward(const DeformPSRoIParams<T, T>& p, const T* grad_out, T* grad_x, T* bin_grad) {
  const int per_class = p.C / p.num_trans, S = p.S, bins = p.kh * p.kw;
  const int64_t HW = static_cast<int64_t>(p.H) * p.W;
  for_each_bin(p, [&](const BinTable<T>& table, int b, int t, int i, int j) {
    for (int c = t * per_class; c < (t + 1) * per_class; ++c) {
      const int64_t plane = cuda::plane_index(p, b, c, i, j) * HW;
      for (int n = 0; n < p.N; ++n) {
        const int count = table.count(n);
        if (!table.mine[n] || count == 0) continue;
        const T w = grad_out[out_offset(p, n, c, i, j)] / static_cast<T>(count);
        if (w == T(0)) continue;
        const SampleAxis<T>*ys = table.ys(n, S), *xs = table.xs(n, S);
        T dx = 0, dy = 0;
        for (int sy = 0; sy < table.ny[n]; ++sy) {
          for (int sx = 0; sx < table.nx[n]; ++sx) {
            cuda::scatter_sample(grad_x + plane, p.W, ys[sy], xs[sx], w);
            if (bin_grad != nullptr) {
              cuda::sample_position_grad(p.x + plane, p.W, ys[sy], xs[sx], &dx, &dy);
            }
          }
        }
        if (bin_grad != nullptr) {
          T* bg = bin_grad + ((static_cast<int64_t>(n) * p.num_trans + t) * 2 * bins) +
                  i * p.kw + j;
          bg[0] += w * dx * table.dx_doff[n];
          bg[bins] += w * dy * table.dy_doff[n];
        }
      }
    }
  });
}

// grad_offsets[n, 2t + a, part] = sum of bin_grad[n, t, a, bin] over the bins of the part.
template <typename T>
void sum_parts(const DeformPSRoIParams<T, T>& p, const T* bin_grad, T* grad_offsets) {
  const int bins = p.kh * p.kw;
  const int64_t PP = static_cast<int64_t>(p.P) * p.P;
  at::parallel_for(0, p.N, 16, [&](int64_t begin, int64_t end) {
    for (int64_t nt = begin * p.num_trans * 2; nt < end * p.num_trans * 2; ++nt) {
      for (int i = 0; i < p.kh; ++i) {
        for (int j = 0; j < p.kw; ++j) {
          grad_offsets[nt * PP + (i * p.P / p.kh) * p.P + j * p.P / p.kw] +=
              bin_grad[nt * bins + i * p.kw + j];
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
    // zeros: a RoI with an out-of-range batch index belongs to no task
    out = at::zeros({p.N, p.C, p.kh, p.kw}, x.options());
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
    at::Tensor bin_grad;
    if (grad_offsets.defined()) bin_grad = at::zeros({p.N, p.num_trans, 2, p.kh, p.kw}, x.options());
    backward(p, grad_out.data_ptr<scalar_t>(), grad_x.data_ptr<scalar_t>(),
             bin_grad.defined() ? bin_grad.data_ptr<scalar_t>() : nullptr);
    if (bin_grad.defined()) {
      sum_parts(p, bin_grad.data_ptr<scalar_t>(), grad_offsets.data_ptr<scalar_t>());
    }
  });
  return {grad_x, grad_offsets};
}

}  // namespace mmpsla

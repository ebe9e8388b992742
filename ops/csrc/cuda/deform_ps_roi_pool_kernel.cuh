// Deformable position-sensitive RoI pooling (Deformable R-FCN, Dai et al. 2017, Sec. 2.2):
// the sampling maths shared by the CPU kernels (cpu/deform_ps_roi_pool_cpu.cpp) and the CUDA
// kernels below, which also compile with a host compiler and run on the CPU (common.cuh).
// Semantics: ../deform_ps_roi_pool.h.
//
// CUDA kernels (grid-stride, one output element (n, c, i, j) per thread):
//   deform_ps_roi_pool_forward_kernel:  out = mean of the bin's valid bilinear samples
//   deform_ps_roi_pool_backward_kernel: grad_out / count scattered onto the 4 neighbours of
//     every valid sample (atomicAdd into an accumulation-dtype buffer: RoIs overlap), and,
//     with offsets, the bin's summed d(sample)/d(position) times trans_std * RoI size added
//     to its part's offset gradient (atomicAdd: the C / T channels of an offset class and
//     the bins of a part share one offset).
#pragma once

#include "cuda/common.cuh"

namespace mmpsla {
namespace cuda {

template <typename T, typename A>
struct DeformPSRoIParams {
  const T* x;        // (B, kh * kw * C, H, W), group-major channels
  const A* rois;     // (N, 5) (batch, x1, y1, x2, y2) in image pixels, accumulation dtype
  const T* offsets;  // (N, 2 * num_trans, P, P) or nullptr
  int B, C, H, W, N, kh, kw, P, S, num_trans;
  A spatial_scale, trans_std;
};

// One sample's coordinate along one axis of a map of `size` pixels: the published border
// rule (valid in [-0.5, size - 0.5], then clamped into [0, size - 1]) and its two
// neighbours; `inner`: not clamped, so the sample moves with its coordinate.
template <typename A>
struct SampleAxis {
  int lo, hi;
  A frac;
  bool valid, inner;
};

template <typename A>
MMPSLA_HD SampleAxis<A> sample_axis(A pos, int size) {
  SampleAxis<A> a;
  const A last = static_cast<A>(size - 1);
  a.valid = pos >= A(-0.5) && pos <= last + A(0.5);
  a.inner = pos >= A(0) && pos <= last;
  const A c = pos < A(0) ? A(0) : (pos > last ? last : pos);
  a.lo = static_cast<int>(c);  // c >= 0: truncation is floor
  if (a.lo > size - 1) a.lo = size - 1;
  a.hi = a.lo + 1 < size ? a.lo + 1 : size - 1;
  a.frac = c - static_cast<A>(a.lo);
  return a;
}

// Where the S x S samples of bin (i, j) of RoI n, offset class t, lie: sample (sy, sx) is
// at (y0 + sy * step_y, x0 + sx * step_x). b < 0: the RoI's batch index is out of range.
template <typename A>
struct DeformBin {
  int b, part;   // batch, part index pi * P + pj
  A x0, y0, step_x, step_y;
  A dx_doff, dy_doff;  // d(sample position) / d(normalised offset): trans_std * RoI size
};

template <typename T, typename A>
MMPSLA_HD DeformBin<A> deform_bin(const DeformPSRoIParams<T, A>& p, int n, int t, int i, int j) {
  const A* r = p.rois + static_cast<int64_t>(n) * 5;
  DeformBin<A> g;
  const A bf = r[0] + A(0.5);
  g.b = static_cast<int>(bf < A(0) ? A(-1) : bf);
  if (g.b >= p.B) g.b = -1;
  const A x1 = r[1] * p.spatial_scale - A(0.5), y1 = r[2] * p.spatial_scale - A(0.5);
  A rw = r[3] * p.spatial_scale - A(0.5) - x1, rh = r[4] * p.spatial_scale - A(0.5) - y1;
  rw = rw < A(0.1) ? A(0.1) : rw;
  rh = rh < A(0.1) ? A(0.1) : rh;
  const A bw = rw / static_cast<A>(p.kw), bh = rh / static_cast<A>(p.kh);
  const int pi = i * p.P / p.kh, pj = j * p.P / p.kw;
  g.part = pi * p.P + pj;
  A ox = 0, oy = 0;
  if (p.offsets != nullptr) {
    const T* o = p.offsets + (static_cast<int64_t>(n) * p.num_trans + t) * 2 * p.P * p.P + g.part;
    ox = to_acc(o[0]) * p.trans_std;
    oy = to_acc(o[p.P * p.P]) * p.trans_std;
  }
  g.step_x = bw / static_cast<A>(p.S);
  g.step_y = bh / static_cast<A>(p.S);
  g.x0 = x1 + static_cast<A>(j) * bw + ox * rw + A(0.5) * g.step_x;
  g.y0 = y1 + static_cast<A>(i) * bh + oy * rh + A(0.5) * g.step_y;
  g.dx_doff = p.trans_std * rw;
  g.dy_doff = p.trans_std * rh;
  return g;
}

// Plane of (batch b, bin (i, j), channel c) in the group-major map.
template <typename T, typename A>
MMPSLA_HD int64_t plane_index(const DeformPSRoIParams<T, A>& p, int b, int c, int i, int j) {
  return ((static_cast<int64_t>(b) * p.kh + i) * p.kw + j) * p.C + c;
}

// Offset class of output channel c.
template <typename T, typename A>
MMPSLA_HD int offset_class(const DeformPSRoIParams<T, A>& p, int c) {
  return c / (p.C / p.num_trans);
}

template <typename T, typename A>
MMPSLA_HD A bilinear(const T* plane, int W, const SampleAxis<A>& ay, const SampleAxis<A>& ax) {
  const A v00 = to_acc(plane[ay.lo * W + ax.lo]), v01 = to_acc(plane[ay.lo * W + ax.hi]);
  const A v10 = to_acc(plane[ay.hi * W + ax.lo]), v11 = to_acc(plane[ay.hi * W + ax.hi]);
  const A top = v00 + (v01 - v00) * ax.frac, bottom = v10 + (v11 - v10) * ax.frac;
  return top + (bottom - top) * ay.frac;
}

// Adds w times the sample's bilinear weights to its four neighbours in grad_plane.
template <typename A>
MMPSLA_HD void scatter_sample(A* grad_plane, int W, const SampleAxis<A>& ay,
                              const SampleAxis<A>& ax, A w) {
  const A wy1 = w * ay.frac, wy0 = w - wy1;
  atomic_add(grad_plane + ay.lo * W + ax.lo, wy0 * (A(1) - ax.frac));
  atomic_add(grad_plane + ay.lo * W + ax.hi, wy0 * ax.frac);
  atomic_add(grad_plane + ay.hi * W + ax.lo, wy1 * (A(1) - ax.frac));
  atomic_add(grad_plane + ay.hi * W + ax.hi, wy1 * ax.frac);
}

// Adds d(sample value) / d(x), d / d(y) to *dx, *dy (0 along a clamped axis).
template <typename T, typename A>
MMPSLA_HD void sample_position_grad(const T* plane, int W, const SampleAxis<A>& ay,
                                    const SampleAxis<A>& ax, A* dx, A* dy) {
  const A v00 = to_acc(plane[ay.lo * W + ax.lo]), v01 = to_acc(plane[ay.lo * W + ax.hi]);
  const A v10 = to_acc(plane[ay.hi * W + ax.lo]), v11 = to_acc(plane[ay.hi * W + ax.hi]);
  if (ax.inner) *dx += (A(1) - ay.frac) * (v01 - v00) + ay.frac * (v11 - v10);
  if (ay.inner) *dy += (A(1) - ax.frac) * (v10 - v00) + ax.frac * (v11 - v01);
}

// Decomposes a flat (n, c, i, j) output index.
struct OutIndex {
  int n, c, i, j;
};
template <typename T, typename A>
MMPSLA_HD OutIndex out_index(const DeformPSRoIParams<T, A>& p, int64_t idx) {
  OutIndex o;
  o.j = static_cast<int>(idx % p.kw);
  o.i = static_cast<int>(idx / p.kw % p.kh);
  o.c = static_cast<int>(idx / (static_cast<int64_t>(p.kw) * p.kh) % p.C);
  o.n = static_cast<int>(idx / (static_cast<int64_t>(p.kw) * p.kh * p.C));
  return o;
}

template <typename T, typename A, class Exec>
MMPSLA_HD void deform_ps_roi_pool_forward(const Exec& ex, const DeformPSRoIParams<T, A>& p,
                                          T* out) {
  const int64_t total = static_cast<int64_t>(p.N) * p.C * p.kh * p.kw;
  grid_stride(ex, total, [&](int64_t idx) {
    const OutIndex o = out_index(p, idx);
    const DeformBin<A> g = deform_bin(p, o.n, offset_class(p, o.c), o.i, o.j);
    A sum = 0;
    int count = 0;
    if (g.b >= 0) {
      const T* plane = p.x + plane_index(p, g.b, o.c, o.i, o.j) * p.H * p.W;
      for (int sy = 0; sy < p.S; ++sy) {
        const SampleAxis<A> ay = sample_axis(g.y0 + static_cast<A>(sy) * g.step_y, p.H);
        if (!ay.valid) continue;
        for (int sx = 0; sx < p.S; ++sx) {
          const SampleAxis<A> ax = sample_axis(g.x0 + static_cast<A>(sx) * g.step_x, p.W);
          if (!ax.valid) continue;
          sum += bilinear(plane, p.W, ay, ax);
          ++count;
        }
      }
    }
    out[idx] = from_acc<T>(count > 0 ? sum / static_cast<A>(count) : A(0));
  });
}

// grad_x (B, kh * kw * C, H, W) and grad_offsets (N, 2 * num_trans, P, P; nullptr without
// offsets) are zero-filled accumulation-dtype buffers.
template <typename T, typename A, class Exec>
MMPSLA_HD void deform_ps_roi_pool_backward(const Exec& ex, const DeformPSRoIParams<T, A>& p,
                                           const T* grad_out, A* grad_x, A* grad_offsets) {
  const int64_t total = static_cast<int64_t>(p.N) * p.C * p.kh * p.kw;
  grid_stride(ex, total, [&](int64_t idx) {
    const OutIndex o = out_index(p, idx);
    const int t = offset_class(p, o.c);
    const DeformBin<A> g = deform_bin(p, o.n, t, o.i, o.j);
    if (g.b < 0) return;
    int cy = 0, cx = 0;
    for (int s = 0; s < p.S; ++s) {
      cy += sample_axis(g.y0 + static_cast<A>(s) * g.step_y, p.H).valid;
      cx += sample_axis(g.x0 + static_cast<A>(s) * g.step_x, p.W).valid;
    }
    if (cy * cx == 0) return;
    const A w = to_acc(grad_out[idx]) / static_cast<A>(cy * cx);
    const int64_t plane = plane_index(p, g.b, o.c, o.i, o.j) * p.H * p.W;
    A dx = 0, dy = 0;
    for (int sy = 0; sy < p.S; ++sy) {
      const SampleAxis<A> ay = sample_axis(g.y0 + static_cast<A>(sy) * g.step_y, p.H);
      if (!ay.valid) continue;
      for (int sx = 0; sx < p.S; ++sx) {
        const SampleAxis<A> ax = sample_axis(g.x0 + static_cast<A>(sx) * g.step_x, p.W);
        if (!ax.valid) continue;
        scatter_sample(grad_x + plane, p.W, ay, ax, w);
        if (grad_offsets != nullptr) sample_position_grad(p.x + plane, p.W, ay, ax, &dx, &dy);
      }
    }
    if (grad_offsets != nullptr) {
      A* go = grad_offsets + (static_cast<int64_t>(o.n) * p.num_trans + t) * 2 * p.P * p.P;
      atomic_add(go + g.part, w * dx * g.dx_doff);
      atomic_add(go + p.P * p.P + g.part, w * dy * g.dy_doff);
    }
  });
}

#if defined(__CUDACC__)
template <typename T, typename A>
__global__ void __launch_bounds__(kThreads)
    deform_ps_roi_pool_forward_kernel(DeformPSRoIParams<T, A> p, T* out) {
  deform_ps_roi_pool_forward<T, A>(DeviceExec(), p, out);
}

template <typename T, typename A>
__global__ void __launch_bounds__(kThreads)
    deform_ps_roi_pool_backward_kernel(DeformPSRoIParams<T, A> p, const T* grad_out, A* grad_x,
                                       A* grad_offsets) {
  deform_ps_roi_pool_backward<T, A>(DeviceExec(), p, grad_out, grad_x, grad_offsets);
}
#endif

}  // namespace cuda
}  // namespace mmpsla

// CPU kernels of the PSLA operator (maths in sparse_local_attention.h).
//
// Everything is built from two register-tiled micro-kernels over zero-padded row tiles:
//
//   correlate  acc[o][y][x]  = sum_c a[c][y][x] * b[c][y + dy_o][x + dx_o]
//              (forward affinities: a = query, b = key; backward dW: a = grad_out, b = value)
//   aggregate  out[c][y][x]  = sum_o w[o][y][x] * s[c][y + dy_o][x + dx_o]            (gather)
//              out[c][y][x]  = sum_o w[o][y - dy_o][x - dx_o] * s[c][y - dy_o][x - dx_o]
//                                                                              (transposed)
//              (forward output: w = weights, s = value; backward: grad_query = gather(dc, key),
//               grad_key = transposed(dc, query), grad_value = transposed(weights, grad_out))
//
// Tiles. A register tile is XB vectors of x (one vector = L lanes) times NB rows of the
// other operand: NB offsets in `correlate` (the a-vectors are loaded once per channel and
// reused by the NB offsets), NB channels in `aggregate` (the weight vectors are loaded once
// per offset and reused by the NB channels). So each FMA takes one load of the streamed
// operand (folded into the FMA) plus 1/NB of a shared load, and the sum stays in registers
// over all channels (correlate, per chunk of kChannelChunk) or all offsets (aggregate).
// The streamed operand comes from a small thread-local copy of the rows a task needs, laid
// out [row][channel][S] with P zero columns on each side and rows rounded up to whole
// vectors: no bounds checks, no masks and no scalar border path in the inner loops (an
// offset that leaves the map reads zeros, or has a zero weight), and a channel block of
// rows stays in L1/L2 while all offsets of a row read it.
//
// The weights (and, in the backward pass, dc) live in a padded (B, N, H, S) scratch with
// the same column layout, so `aggregate` reads them unshifted (gather) or shifted by -o
// (transposed) without bounds checks; they are copied once into the (B, N, H, W) output.
// Softmax / sum normalisation is vectorised over x (with a polynomial exp for float32).
//
// ISA. The micro-kernels are templates over the vector width; entry points are compiled
// three times (x86-64 baseline/SSE2, AVX2+FMA, AVX-512) with target attributes and the
// widest one the CPU supports is chosen at run time (no -march flag at build time).
// MMPSLA_CPU_ISA=base|avx2|avx512 (or _ext._set_cpu_isa) forces a narrower one (tests).
//
// Parallelisation (at::parallel_for): correlate tasks are (batch, block of rows); aggregate
// tasks are (batch, block of channels, block of rows). A task owns its output rows or
// channels; the transposed gradients are gathers over -o, so nothing needs atomics.
#include <ATen/Parallel.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "sparse_local_attention.h"

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wpsabi"  // vectors passed between always-inline helpers
#endif

#define MMPSLA_INLINE inline __attribute__((always_inline))

#if defined(__x86_64__) && defined(__GNUC__)
#define MMPSLA_X86 1
#define MMPSLA_TARGET_AVX2 __attribute__((target("avx2,fma")))
#define MMPSLA_TARGET_AVX512 \
  __attribute__((target("avx512f,avx512vl,avx512bw,avx512dq,avx2,fma")))
#else
#define MMPSLA_X86 0
#endif

namespace mmpsla {
namespace {

template <typename T, int kBytes>
struct VecOf {
  typedef T type __attribute__((vector_size(kBytes)));
};
template <typename T, int kBytes>
using Vec = typename VecOf<T, kBytes>::type;

template <typename V, typename T>
MMPSLA_INLINE V loadu(const T* p) {
  V v;
  std::memcpy(&v, p, sizeof(V));
  return v;
}
template <typename V, typename T>
MMPSLA_INLINE void storeu(T* p, const V& v) {
  std::memcpy(p, &v, sizeof(V));
}

// Channels summed in registers per pass of `correlate` (the partial sums go back to the
// scratch between chunks); keeps a chunk's padded rows in L1/L2.
constexpr int kChannelChunk = 32;
// Rows of one aggregate task at most (its padded source rows: NB channels x (rows + halo)).
constexpr int kAggRows = 64;

// ----------------------------------------------------------------------------- geometry
// Offsets with |dy| >= H or |dx| >= W are valid nowhere ("dead"); the others define the
// padding: P columns on each side, Dy halo rows.
struct Geometry {
  int H, W, N;
  int P;   // max |dx| over live offsets
  int Dy;  // max |dy| over live offsets
  int Wv;  // W rounded up to a whole register tile
  int S;   // padded row stride: P + Wv + P
  std::vector<int> dy, dx, xlo, xhi, order;  // order: live offsets sorted by (dy, dx)
  std::vector<char> live;

  // Is y + dy (gather) or y - dy (transposed) inside the map, for a live offset?
  bool active(int o, int y, bool transposed) const {
    if (!live[o]) return false;
    const int yy = transposed ? y - dy[o] : y + dy[o];
    return yy >= 0 && yy < H;
  }
  void active_offsets(int y, bool transposed, std::vector<int>& out) const {
    out.clear();
    for (const int o : order) {
      if (active(o, y, transposed)) out.push_back(o);
    }
  }
};

Geometry make_geometry(const std::vector<std::pair<int, int>>& offs, int H, int W,
                       int tile_width) {
  Geometry g;
  g.H = H;
  g.W = W;
  g.N = static_cast<int>(offs.size());
  g.P = 0;
  g.Dy = 0;
  for (int o = 0; o < g.N; ++o) {
    const int dy = offs[o].first, dx = offs[o].second;
    const bool live = std::abs(dy) < H && std::abs(dx) < W;
    g.dy.push_back(dy);
    g.dx.push_back(dx);
    g.live.push_back(live);
    g.xlo.push_back(std::max(0, -dx));
    g.xhi.push_back(std::min(W, W - dx));
    if (live) {
      g.P = std::max(g.P, std::abs(dx));
      g.Dy = std::max(g.Dy, std::abs(dy));
      g.order.push_back(o);
    }
  }
  std::stable_sort(g.order.begin(), g.order.end(), [&](int a, int b) {
    return g.dy[a] != g.dy[b] ? g.dy[a] < g.dy[b] : g.dx[a] < g.dx[b];
  });
  g.Wv = (W + tile_width - 1) / tile_width * tile_width;
  g.S = g.P + g.Wv + g.P;
  return g;
}

// Thread-local scratch (reused across calls: no page faults of fresh allocations).
template <typename T>
T* scratch(int slot, size_t n) {
  thread_local std::vector<T> buffers[3];
  std::vector<T>& buf = buffers[slot];
  if (buf.size() < n) buf.resize(n);
  return buf.data();
}

// dst[(r - r0) * rs + c * S + P + x] = src[c][r][x] for r in [r0, r1), c < nc, x < W;
// the P columns on the left and the S - P - W on the right are zero.
template <typename T>
MMPSLA_INLINE void pad_rows(const T* src, int64_t HW, int nc, int r0, int r1, const Geometry& g,
                            T* dst, int64_t rs) {
  const size_t right = static_cast<size_t>(g.S - g.P - g.W);
  for (int r = r0; r < r1; ++r) {
    for (int c = 0; c < nc; ++c) {
      T* d = dst + (r - r0) * rs + static_cast<int64_t>(c) * g.S;
      std::memset(d, 0, sizeof(T) * g.P);
      std::memcpy(d + g.P, src + c * HW + static_cast<int64_t>(r) * g.W, sizeof(T) * g.W);
      std::memset(d + g.P + g.W, 0, sizeof(T) * right);
    }
  }
}

// ------------------------------------------------------------------------ vector maths
// exp for float vectors: Cody-Waite range reduction and a degree-6 polynomial
// (Cephes expf coefficients), relative error ~2 ulp; inputs are clamped to [-87.3, 88.7].
template <typename V>
MMPSLA_INLINE V vexp(V x, float) {
  using I = decltype(x < x);
  x = x > 88.7f ? V{} + 88.7f : x;
  x = x < -87.3f ? V{} - 87.3f : x;
  const V t = x * 1.44269504088896341f;
  const I n = __builtin_convertvector(t + (t >= 0.0f ? V{} + 0.5f : V{} - 0.5f), I);
  const V nf = __builtin_convertvector(n, V);
  V r = x - nf * 0.693359375f;
  r = r - nf * -2.12194440e-4f;
  V p = 1.9875691500e-4f * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * (r * r) + r + 1.0f;
  const I bits = (n + 127) << 23;
  V scale;
  std::memcpy(&scale, &bits, sizeof(V));
  return p * scale;
}
// float64: the library exp per lane (gradcheck precision; not the fast path).
template <typename V>
MMPSLA_INLINE V vexp(V x, double) {
  V y;
  for (size_t i = 0; i < sizeof(V) / sizeof(double); ++i) y[i] = std::exp(x[i]);
  return y;
}

template <typename V, typename T>
MMPSLA_INLINE V iota_from(int x0) {
  V v;
  for (size_t i = 0; i < sizeof(V) / sizeof(T); ++i) v[i] = static_cast<T>(x0 + static_cast<int>(i));
  return v;
}

// ------------------------------------------------------------------------ micro-kernels
// acc_o[x0 + .] (+)= sum_{c < nc} a[c * cs + .] * b_o[c * cs + .] for NO offsets, XB vectors.
template <typename T, class Isa, int NO>
MMPSLA_INLINE void correlate_tile(const T* a, const T* const* bp, T* const* accp, int x0, int nc,
                                  int64_t cs, bool first) {
  using V = Vec<T, Isa::kBytes>;
  constexpr int L = Isa::kBytes / sizeof(T);
  constexpr int XB = Isa::kXB;
  V acc[NO][XB];
  const T* bq[NO];
#pragma GCC unroll 16
  for (int o = 0; o < NO; ++o) {
    bq[o] = bp[o] + x0;
#pragma GCC unroll 8
    for (int j = 0; j < XB; ++j) acc[o][j] = first ? V{} : loadu<V>(accp[o] + x0 + j * L);
  }
  const T* ap = a + x0;
  for (int c = 0; c < nc; ++c) {
    V av[XB];
#pragma GCC unroll 8
    for (int j = 0; j < XB; ++j) av[j] = loadu<V>(ap + c * cs + j * L);
#pragma GCC unroll 16
    for (int o = 0; o < NO; ++o) {
#pragma GCC unroll 8
      for (int j = 0; j < XB; ++j) acc[o][j] += av[j] * loadu<V>(bq[o] + c * cs + j * L);
    }
  }
#pragma GCC unroll 16
  for (int o = 0; o < NO; ++o) {
#pragma GCC unroll 8
    for (int j = 0; j < XB; ++j) storeu(accp[o] + x0 + j * L, acc[o][j]);
  }
}

template <typename T, class Isa, int K>
MMPSLA_INLINE void correlate_n(int n, const T* a, const T* const* bp, T* const* accp, int x0,
                               int nc, int64_t cs, bool first) {
  if constexpr (K > 0) {
    if (n == K) {
      correlate_tile<T, Isa, K>(a, bp, accp, x0, nc, cs, first);
    } else {
      correlate_n<T, Isa, K - 1>(n, a, bp, accp, x0, nc, cs, first);
    }
  }
}

// out_c[x0 + .] = sum_{i < na} w_i[x0 + .] * s_i[c * cs + x0 + .] for NC channels, XB
// vectors; stores only the columns below W.
template <typename T, class Isa, int NC>
MMPSLA_INLINE void aggregate_tile(const T* const* wb, const T* const* sb, int na, int x0,
                                  int64_t cs, T* orow, int64_t HW, int W) {
  using V = Vec<T, Isa::kBytes>;
  constexpr int L = Isa::kBytes / sizeof(T);
  constexpr int XB = Isa::kXB;
  V acc[NC][XB];
#pragma GCC unroll 16
  for (int c = 0; c < NC; ++c) {
#pragma GCC unroll 8
    for (int j = 0; j < XB; ++j) acc[c][j] = V{};
  }
  for (int i = 0; i < na; ++i) {
    const T* w = wb[i] + x0;
    // one pointer per channel, so the x vectors are immediate displacements (keeps the
    // loop's address arithmetic in registers)
    const T* sc[NC];
    sc[0] = sb[i] + x0;
#pragma GCC unroll 16
    for (int c = 1; c < NC; ++c) sc[c] = sc[c - 1] + cs;
    V wv[XB];
#pragma GCC unroll 8
    for (int j = 0; j < XB; ++j) wv[j] = loadu<V>(w + j * L);
#pragma GCC unroll 16
    for (int c = 0; c < NC; ++c) {
#pragma GCC unroll 8
      for (int j = 0; j < XB; ++j) acc[c][j] += wv[j] * loadu<V>(sc[c] + j * L);
    }
  }
#pragma GCC unroll 16
  for (int c = 0; c < NC; ++c) {
#pragma GCC unroll 8
    for (int j = 0; j < XB; ++j) {
      const int x = x0 + j * L;
      T* dst = orow + c * HW + x;
      if (x + L <= W) {
        storeu(dst, acc[c][j]);
      } else if (x < W) {
        T tmp[L];
        storeu(tmp, acc[c][j]);
        std::memcpy(dst, tmp, sizeof(T) * (W - x));
      }
    }
  }
}

template <typename T, class Isa, int K>
MMPSLA_INLINE void aggregate_n(int n, const T* const* wb, const T* const* sb, int na, int x0,
                               int64_t cs, T* orow, int64_t HW, int W) {
  if constexpr (K > 0) {
    if (n == K) {
      aggregate_tile<T, Isa, K>(wb, sb, na, x0, cs, orow, HW, W);
    } else {
      aggregate_n<T, Isa, K - 1>(n, wb, sb, na, x0, cs, orow, HW, W);
    }
  }
}

// -------------------------------------------------------------------------------- jobs
template <typename T>
struct CorrelateJob {
  const Geometry* g;
  const T* a;  // (B, C, H, W)
  const T* b;  // (B, C, H, W)
  int64_t C;
  T* wp;  // (B, N, H, S) padded: logits -> weights (forward) or dW -> dc (backward)
  int rows;
  int64_t tasks_per_image;
  Normalize mode;
  bool backward;
  // forward outputs
  T* weights;  // (B, N, H, W)
  T* denom;    // (B, H, W)
  // backward inputs
  const T* saved;         // (B, N, H, S) padded forward weights
  const T* saved_denom;   // (B, H, W)
  const T* grad_weights;  // (B, N, H, W) or nullptr
};

template <typename T>
struct AggregateJob {
  const Geometry* g;
  const T* w;    // (B, N, H, S) padded weights or dc
  const T* src;  // (B, C, H, W)
  T* out;        // (B, C, H, W)
  int64_t C;
  bool transposed;
  int rows;
  int64_t row_blocks;
  int64_t tasks_per_image;
};

// Forward normalisation of rows [y0, y1) of image b, in place in the padded scratch, then
// copied to the weights output; denom gets the partition function / sum normaliser.
template <typename T, class Isa>
MMPSLA_INLINE void normalize_rows(const CorrelateJob<T>& j, int64_t b, int y0, int y1) {
  using V = Vec<T, Isa::kBytes>;
  constexpr int L = Isa::kBytes / sizeof(T);
  const Geometry& g = *j.g;
  const int64_t HS = static_cast<int64_t>(g.H) * g.S, HW = static_cast<int64_t>(g.H) * g.W;
  T* wp = j.wp + b * g.N * HS;
  std::vector<int> act;
  for (int y = y0; y < y1; ++y) {
    g.active_offsets(y, false, act);
    const int64_t row = static_cast<int64_t>(y) * g.S + g.P;
    T* drow = j.denom + b * HW + static_cast<int64_t>(y) * g.W;
    for (int x0 = 0; x0 < g.Wv; x0 += L) {
      const V xi = iota_from<V, T>(x0);
      V s{};
      if (j.mode == Normalize::kSoftmax) {
        V m = V{} - std::numeric_limits<T>::infinity();
        for (const int o : act) {
          const V l = loadu<V>(wp + o * HS + row + x0);
          const auto ok = (xi >= static_cast<T>(g.xlo[o])) & (xi < static_cast<T>(g.xhi[o]));
          m = (ok & (l > m)) ? l : m;
        }
        for (const int o : act) {
          T* p = wp + o * HS + row + x0;
          const auto ok = (xi >= static_cast<T>(g.xlo[o])) & (xi < static_cast<T>(g.xhi[o]));
          const V e = ok ? vexp(loadu<V>(p) - m, T()) : V{};
          storeu(p, e);
          s += e;
        }
        const V inv = s > T(0) ? T(1) / s : V{};
        for (const int o : act) {
          T* p = wp + o * HS + row + x0;
          storeu(p, loadu<V>(p) * inv);
        }
      } else {
        for (const int o : act) {
          const auto ok = (xi >= static_cast<T>(g.xlo[o])) & (xi < static_cast<T>(g.xhi[o]));
          const V l = loadu<V>(wp + o * HS + row + x0);
          s += ok ? l : V{};
        }
        s += static_cast<T>(kSumEps);
        const V inv = T(1) / s;
        for (const int o : act) {
          T* p = wp + o * HS + row + x0;
          const auto ok = (xi >= static_cast<T>(g.xlo[o])) & (xi < static_cast<T>(g.xhi[o]));
          storeu(p, ok ? loadu<V>(p) * inv : V{});
        }
      }
      T tmp[L];
      storeu(tmp, s);
      const int n = std::min(L, g.W - x0);
      if (n > 0) std::memcpy(drow + x0, tmp, sizeof(T) * n);
    }
    // offsets inactive on this row, and the padding columns: weight 0
    for (int o = 0; o < g.N; ++o) {
      T* r = wp + o * HS + static_cast<int64_t>(y) * g.S;
      if (!g.active(o, y, false)) std::memset(r + g.P, 0, sizeof(T) * g.Wv);
      std::memset(r, 0, sizeof(T) * g.P);
      std::memset(r + g.P + g.Wv, 0, sizeof(T) * g.P);
      std::memcpy(j.weights + (b * g.N + o) * HW + static_cast<int64_t>(y) * g.W, r + g.P,
                  sizeof(T) * g.W);
    }
  }
}

// Backward normalisation of rows [y0, y1): dW (+ grad_weights) -> dc in place.
//   softmax: dc_o = w_o (dW_o - sum_j w_j dW_j);   sum: dc_o = (dW_o - sum_j w_j dW_j) / denom
template <typename T, class Isa>
MMPSLA_INLINE void normalize_backward_rows(const CorrelateJob<T>& j, int64_t b, int y0, int y1) {
  using V = Vec<T, Isa::kBytes>;
  constexpr int L = Isa::kBytes / sizeof(T);
  const Geometry& g = *j.g;
  const int64_t HS = static_cast<int64_t>(g.H) * g.S, HW = static_cast<int64_t>(g.H) * g.W;
  T* gp = j.wp + b * g.N * HS;
  const T* wp = j.saved + b * g.N * HS;
  std::vector<int> act;
  std::vector<T> den(static_cast<size_t>(g.Wv), T(1));
  for (int y = y0; y < y1; ++y) {
    g.active_offsets(y, false, act);
    const int64_t row = static_cast<int64_t>(y) * g.S + g.P;
    if (j.grad_weights != nullptr) {
      for (const int o : act) {
        T* d = gp + o * HS + row;
        const T* s = j.grad_weights + (b * g.N + o) * HW + static_cast<int64_t>(y) * g.W;
        for (int x = 0; x < g.W; ++x) d[x] += s[x];
      }
    }
    if (j.mode == Normalize::kSum) {
      std::memcpy(den.data(), j.saved_denom + b * HW + static_cast<int64_t>(y) * g.W,
                  sizeof(T) * g.W);
    }
    for (int x0 = 0; x0 < g.Wv; x0 += L) {
      const V xi = iota_from<V, T>(x0);
      V dot{};
      for (const int o : act) {
        const auto ok = (xi >= static_cast<T>(g.xlo[o])) & (xi < static_cast<T>(g.xhi[o]));
        dot += ok ? loadu<V>(wp + o * HS + row + x0) * loadu<V>(gp + o * HS + row + x0) : V{};
      }
      const V inv = T(1) / loadu<V>(den.data() + x0);
      for (const int o : act) {
        T* p = gp + o * HS + row + x0;
        const auto ok = (xi >= static_cast<T>(g.xlo[o])) & (xi < static_cast<T>(g.xhi[o]));
        const V diff = loadu<V>(p) - dot;
        const V dc = j.mode == Normalize::kSoftmax ? loadu<V>(wp + o * HS + row + x0) * diff
                                                   : diff * inv;
        storeu(p, ok ? dc : V{});
      }
    }
    for (int o = 0; o < g.N; ++o) {
      T* r = gp + o * HS + static_cast<int64_t>(y) * g.S;
      if (!g.active(o, y, false)) std::memset(r + g.P, 0, sizeof(T) * g.Wv);
      std::memset(r, 0, sizeof(T) * g.P);
      std::memset(r + g.P + g.Wv, 0, sizeof(T) * g.P);
    }
  }
}

// One task of `correlate`: rows [y0, y1) of one image, all offsets, all channels; then the
// normalisation of those rows.
template <typename T, class Isa>
MMPSLA_INLINE void correlate_task(const CorrelateJob<T>& j, int64_t t) {
  constexpr int NO = Isa::kNB;
  constexpr int TW = Isa::kXB * Isa::kBytes / static_cast<int>(sizeof(T));
  const Geometry& g = *j.g;
  const int64_t b = t / j.tasks_per_image;
  const int y0 = static_cast<int>(t % j.tasks_per_image) * j.rows;
  const int y1 = std::min(g.H, y0 + j.rows);
  const int rb0 = std::max(0, y0 - g.Dy), rb1 = std::min(g.H, y1 + g.Dy);
  const int64_t HW = static_cast<int64_t>(g.H) * g.W, HS = static_cast<int64_t>(g.H) * g.S;
  const int kc = static_cast<int>(std::min<int64_t>(kChannelChunk, j.C));
  const int64_t rs = static_cast<int64_t>(kc) * g.S;  // scratch row stride
  T* as = scratch<T>(0, static_cast<size_t>(rs) * (y1 - y0));
  T* bs = scratch<T>(1, static_cast<size_t>(rs) * (rb1 - rb0));
  T* wp = j.wp + b * g.N * HS;
  std::vector<int> act;
  const T* bp[NO];
  T* accp[NO];
  for (int64_t c0 = 0; c0 < j.C; c0 += kc) {
    const int nc = static_cast<int>(std::min<int64_t>(kc, j.C - c0));
    pad_rows(j.a + (b * j.C + c0) * HW, HW, nc, y0, y1, g, as, rs);
    pad_rows(j.b + (b * j.C + c0) * HW, HW, nc, rb0, rb1, g, bs, rs);
    for (int y = y0; y < y1; ++y) {
      g.active_offsets(y, false, act);
      const T* arow = as + (y - y0) * rs + g.P;
      for (size_t i0 = 0; i0 < act.size(); i0 += NO) {
        const int no = static_cast<int>(std::min<size_t>(NO, act.size() - i0));
        for (int i = 0; i < no; ++i) {
          const int o = act[i0 + i];
          bp[i] = bs + (y + g.dy[o] - rb0) * rs + g.P + g.dx[o];
          accp[i] = wp + o * HS + static_cast<int64_t>(y) * g.S + g.P;
        }
        for (int x0 = 0; x0 < g.Wv; x0 += TW) {
          correlate_n<T, Isa, NO>(no, arow, bp, accp, x0, nc, g.S, c0 == 0);
        }
      }
    }
  }
  if (j.backward) {
    normalize_backward_rows<T, Isa>(j, b, y0, y1);
  } else {
    normalize_rows<T, Isa>(j, b, y0, y1);
  }
}

// One task of `aggregate`: up to kNB channels, rows [y0, y1) of one image.
template <typename T, class Isa>
MMPSLA_INLINE void aggregate_task(const AggregateJob<T>& j, int64_t t) {
  constexpr int NC = Isa::kNB;
  constexpr int TW = Isa::kXB * Isa::kBytes / static_cast<int>(sizeof(T));
  const Geometry& g = *j.g;
  const int64_t b = t / j.tasks_per_image;
  const int64_t rem = t % j.tasks_per_image;
  const int64_t c0 = rem / j.row_blocks * NC;
  const int nc = static_cast<int>(std::min<int64_t>(NC, j.C - c0));
  const int y0 = static_cast<int>(rem % j.row_blocks) * j.rows;
  const int y1 = std::min(g.H, y0 + j.rows);
  const int r0 = std::max(0, y0 - g.Dy), r1 = std::min(g.H, y1 + g.Dy);
  const int64_t HW = static_cast<int64_t>(g.H) * g.W, HS = static_cast<int64_t>(g.H) * g.S;
  const int64_t rs = static_cast<int64_t>(nc) * g.S;
  T* ss = scratch<T>(2, static_cast<size_t>(rs) * (r1 - r0));
  pad_rows(j.src + (b * j.C + c0) * HW, HW, nc, r0, r1, g, ss, rs);
  const T* wp = j.w + b * g.N * HS;
  std::vector<int> act;
  std::vector<const T*> wb(static_cast<size_t>(g.N)), sb(static_cast<size_t>(g.N));
  const int sign = j.transposed ? -1 : 1;
  for (int y = y0; y < y1; ++y) {
    g.active_offsets(y, j.transposed, act);
    const int na = static_cast<int>(act.size());
    for (int i = 0; i < na; ++i) {
      const int o = act[i];
      const int sy = y + sign * g.dy[o], sx = g.P + sign * g.dx[o];
      wb[i] = wp + o * HS + static_cast<int64_t>(j.transposed ? sy : y) * g.S +
              (j.transposed ? sx : g.P);
      sb[i] = ss + (sy - r0) * rs + sx;
    }
    T* orow = j.out + (b * j.C + c0) * HW + static_cast<int64_t>(y) * g.W;
    for (int x0 = 0; x0 < g.Wv; x0 += TW) {
      aggregate_n<T, Isa, NC>(nc, wb.data(), sb.data(), na, x0, g.S, orow, HW, g.W);
    }
  }
}

// ---------------------------------------------------------------------- ISA variants
#define MMPSLA_DEFINE_ISA(NAME, ATTR, BYTES, XB, NB)                              \
  struct NAME {                                                                   \
    static constexpr int kBytes = BYTES; /* vector width */                       \
    static constexpr int kXB = XB;       /* vectors of x per register tile */     \
    static constexpr int kNB = NB;       /* offsets / channels per register tile */ \
    template <typename T>                                                         \
    ATTR static void correlate(const CorrelateJob<T>& j, int64_t t) {             \
      correlate_task<T, NAME>(j, t);                                              \
    }                                                                             \
    template <typename T>                                                         \
    ATTR static void aggregate(const AggregateJob<T>& j, int64_t t) {             \
      aggregate_task<T, NAME>(j, t);                                              \
    }                                                                             \
  };

// 16 vector registers (SSE2, AVX2): 2 x 6 accumulators + 2 shared; AVX-512 has 32.
MMPSLA_DEFINE_ISA(IsaBase, , 16, 2, 6)
#if MMPSLA_X86
MMPSLA_DEFINE_ISA(IsaAvx2, MMPSLA_TARGET_AVX2, 32, 2, 6)
MMPSLA_DEFINE_ISA(IsaAvx512, MMPSLA_TARGET_AVX512, 32, 4, 6)
#endif
#undef MMPSLA_DEFINE_ISA

enum class CpuIsa : int { kBase = 0, kAvx2 = 1, kAvx512 = 2 };

CpuIsa detect_isa() {
#if MMPSLA_X86
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
      __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq")) {
    return CpuIsa::kAvx512;
  }
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return CpuIsa::kAvx2;
#endif
  return CpuIsa::kBase;
}

CpuIsa parse_isa(const std::string& name) {
  if (name == "base") return CpuIsa::kBase;
  if (name == "avx2") return CpuIsa::kAvx2;
  if (name == "avx512") return CpuIsa::kAvx512;
  TORCH_CHECK(false, "psla (CPU): unknown ISA '", name, "'; use base, avx2 or avx512");
}

const char* isa_name(CpuIsa isa) {
  return isa == CpuIsa::kAvx512 ? "avx512" : isa == CpuIsa::kAvx2 ? "avx2" : "base";
}

CpuIsa& current_isa() {
  static CpuIsa isa = [] {
    const CpuIsa best = detect_isa();
    const char* env = std::getenv("MMPSLA_CPU_ISA");
    if (env == nullptr || *env == '\0') return best;
    return std::min(best, parse_isa(env));
  }();
  return isa;
}

// ------------------------------------------------------------------------------ drivers
// Runs f(begin, end) over [0, n) on the thread pool, inline when the work is tiny
// (waking the pool costs microseconds, milliseconds on a loaded machine).
template <typename F>
void run_tasks(int64_t n, int64_t work_per_task, F&& f) {
  const int64_t grain = std::max<int64_t>(1, (int64_t(1) << 16) / std::max<int64_t>(1, work_per_task));
  at::parallel_for(0, n, grain, f);
}

int64_t correlate_rows_per_task(int64_t B, int H) {
  const int64_t threads = std::max<int64_t>(1, at::get_num_threads());
  return std::max<int64_t>(1, std::min<int64_t>(8, (B * H + 4 * threads - 1) / (4 * threads)));
}

template <typename T, class Isa>
void run_correlate(CorrelateJob<T> j, int64_t B) {
  const Geometry& g = *j.g;
  j.rows = static_cast<int>(correlate_rows_per_task(B, g.H));
  j.tasks_per_image = (g.H + j.rows - 1) / j.rows;
  const int64_t work = static_cast<int64_t>(j.rows) * g.W * g.N * j.C;
  run_tasks(B * j.tasks_per_image, work, [&](int64_t begin, int64_t end) {
    for (int64_t t = begin; t < end; ++t) Isa::template correlate<T>(j, t);
  });
}

template <typename T, class Isa>
AggregateJob<T> aggregate_job(const Geometry& g, const T* w, const T* src, T* out, int64_t C,
                              bool transposed) {
  AggregateJob<T> j{&g, w, src, out, C, transposed, 0, 0, 0};
  j.rows = std::min(g.H, kAggRows);
  j.row_blocks = (g.H + j.rows - 1) / j.rows;
  j.tasks_per_image = (C + Isa::kNB - 1) / Isa::kNB * j.row_blocks;
  return j;
}

template <typename T, class Isa>
void run_aggregates(const std::vector<AggregateJob<T>>& jobs, int64_t B) {
  std::vector<int64_t> first{0};
  for (const auto& j : jobs) first.push_back(first.back() + B * j.tasks_per_image);
  const auto& g = *jobs[0].g;
  const int64_t work = static_cast<int64_t>(jobs[0].rows) * g.W * g.N * Isa::kNB;
  run_tasks(first.back(), work, [&](int64_t begin, int64_t end) {
    for (int64_t t = begin; t < end; ++t) {
      size_t k = 0;
      while (t >= first[k + 1]) ++k;
      Isa::template aggregate<T>(jobs[k], t - first[k]);
    }
  });
}

// Padded (B, N, H, S) copy of (B, N, H, W) weights (zero padding).
template <typename T>
void pad_weights(const T* w, const Geometry& g, int64_t B, T* out) {
  const int64_t planes = B * g.N;
  at::parallel_for(0, planes, 64, [&](int64_t begin, int64_t end) {
    for (int64_t p = begin; p < end; ++p) {
      pad_rows(w + p * g.H * g.W, 0, 1, 0, g.H, g, out + p * g.H * g.S, g.S);
    }
  });
}

struct Sizes {
  int64_t B, C, Cv;
  int H, W;
};

template <typename T, class Isa>
void forward_impl(const T* q, const T* k, const T* v, const Sizes& s,
                  const std::vector<std::pair<int, int>>& offs, Normalize mode, T* out,
                  T* weights, T* denom) {
  constexpr int TW = Isa::kXB * Isa::kBytes / static_cast<int>(sizeof(T));
  const Geometry g = make_geometry(offs, s.H, s.W, TW);
  std::vector<T> wp(static_cast<size_t>(s.B) * g.N * g.H * g.S);
  CorrelateJob<T> cj{&g, q, k, s.C, wp.data(), 0, 0, mode, false, weights, denom,
                     nullptr, nullptr, nullptr};
  run_correlate<T, Isa>(cj, s.B);
  run_aggregates<T, Isa>({aggregate_job<T, Isa>(g, wp.data(), v, out, s.Cv, false)}, s.B);
}

template <typename T, class Isa>
void backward_impl(const T* grad_out, const T* grad_weights, const T* q, const T* k, const T* v,
                   const T* weights, const T* denom, const Sizes& s,
                   const std::vector<std::pair<int, int>>& offs, Normalize mode, T* grad_q,
                   T* grad_k, T* grad_v) {
  constexpr int TW = Isa::kXB * Isa::kBytes / static_cast<int>(sizeof(T));
  const Geometry g = make_geometry(offs, s.H, s.W, TW);
  const size_t padded = static_cast<size_t>(s.B) * g.N * g.H * g.S;
  std::vector<T> wp(padded), dc(padded);
  pad_weights(weights, g, s.B, wp.data());
  CorrelateJob<T> cj{&g, grad_out, v, s.Cv, dc.data(), 0, 0, mode, true, nullptr, nullptr,
                     wp.data(), denom, grad_weights};
  run_correlate<T, Isa>(cj, s.B);
  run_aggregates<T, Isa>({aggregate_job<T, Isa>(g, dc.data(), k, grad_q, s.C, false),
                          aggregate_job<T, Isa>(g, dc.data(), q, grad_k, s.C, true),
                          aggregate_job<T, Isa>(g, wp.data(), grad_out, grad_v, s.Cv, true)},
                         s.B);
}

// Calls f.template operator()<Isa>() for the ISA chosen at run time.
template <typename F>
void with_isa(F&& f) {
  switch (current_isa()) {
#if MMPSLA_X86
    case CpuIsa::kAvx512:
      f(IsaAvx512());
      return;
    case CpuIsa::kAvx2:
      f(IsaAvx2());
      return;
#endif
    default:
      f(IsaBase());
  }
}

Sizes sizes_of(const at::Tensor& q, const at::Tensor& v) {
  return {q.size(0), q.size(1), v.size(1), static_cast<int>(q.size(2)),
          static_cast<int>(q.size(3))};
}

}  // namespace

std::string set_cpu_isa(const std::string& name) {
  const std::string previous = isa_name(current_isa());
  if (!name.empty()) current_isa() = std::min(detect_isa(), parse_isa(name));
  return previous;
}

// Inputs are validated by the dispatcher in bindings.cpp.
std::vector<at::Tensor> psla_forward_cpu(const at::Tensor& query_in, const at::Tensor& key_in,
                                         const at::Tensor& value_in,
                                         const std::vector<std::pair<int, int>>& offs,
                                         int64_t normalize) {
  const at::Tensor query = query_in.contiguous(), key = key_in.contiguous(),
                   value = value_in.contiguous();
  const Sizes s = sizes_of(query, value);
  const int64_t N = static_cast<int64_t>(offs.size());
  at::Tensor out = at::empty({s.B, s.Cv, s.H, s.W}, value.options());
  at::Tensor weights = at::empty({s.B, N, s.H, s.W}, query.options());
  at::Tensor denom = at::empty({s.B, s.H, s.W}, query.options());
  if (out.numel() == 0 || weights.numel() == 0) {
    return {out.zero_(), weights.zero_(), denom.zero_()};
  }
  AT_DISPATCH_FLOATING_TYPES(query.scalar_type(), "psla_forward_cpu", [&] {
    with_isa([&](auto isa) {
      forward_impl<scalar_t, decltype(isa)>(
          query.data_ptr<scalar_t>(), key.data_ptr<scalar_t>(), value.data_ptr<scalar_t>(), s,
          offs, static_cast<Normalize>(normalize), out.data_ptr<scalar_t>(),
          weights.data_ptr<scalar_t>(), denom.data_ptr<scalar_t>());
    });
  });
  return {out, weights, denom};
}

std::vector<at::Tensor> psla_backward_cpu(const at::Tensor& grad_out_in,
                                          const at::Tensor& grad_weights_in,
                                          const at::Tensor& query_in, const at::Tensor& key_in,
                                          const at::Tensor& value_in,
                                          const std::vector<std::pair<int, int>>& offs,
                                          const at::Tensor& weights_in, const at::Tensor& denom_in,
                                          int64_t normalize) {
  const auto dtype = query_in.scalar_type();
  const at::Tensor query = query_in.contiguous(), key = key_in.contiguous(),
                   value = value_in.contiguous();
  const at::Tensor grad_out = grad_out_in.to(dtype).contiguous();
  const at::Tensor weights = weights_in.to(dtype).contiguous();
  const at::Tensor denom = denom_in.to(dtype).contiguous();
  const at::Tensor grad_weights =
      grad_weights_in.defined() ? grad_weights_in.to(dtype).contiguous() : grad_weights_in;
  at::Tensor grad_query = at::empty_like(query);
  at::Tensor grad_key = at::empty_like(key);
  at::Tensor grad_value = at::empty_like(value);
  if (weights.numel() == 0 || value.numel() == 0) {
    return {grad_query.zero_(), grad_key.zero_(), grad_value.zero_()};
  }
  const Sizes s = sizes_of(query, value);
  AT_DISPATCH_FLOATING_TYPES(dtype, "psla_backward_cpu", [&] {
    with_isa([&](auto isa) {
      backward_impl<scalar_t, decltype(isa)>(
          grad_out.data_ptr<scalar_t>(),
          grad_weights.defined() ? grad_weights.data_ptr<scalar_t>() : nullptr,
          query.data_ptr<scalar_t>(), key.data_ptr<scalar_t>(), value.data_ptr<scalar_t>(),
          weights.data_ptr<scalar_t>(), denom.data_ptr<scalar_t>(), s, offs,
          static_cast<Normalize>(normalize), grad_query.data_ptr<scalar_t>(),
          grad_key.data_ptr<scalar_t>(), grad_value.data_ptr<scalar_t>());
    });
  });
  return {grad_query, grad_key, grad_value};
}

}  // namespace mmpsla

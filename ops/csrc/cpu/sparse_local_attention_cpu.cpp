// CPU kernels of the PSLA operator (see sparse_local_attention.h for the maths).
//
// Layout. Everything stays NCHW (no channels-last scratch copies: value and out would be
// two extra value-sized buffers, and the loops below are contiguous in x anyway). Every
// product term is acc[x] += a[x] * b[x] over a contiguous run of x inside one row.
// Columns are processed in chunks of 32 whose sums stay in registers: the affinities sum
// over channels, the aggregations sum over offsets, so each chunk is loaded, accumulated
// and stored once. Chunks cover the interior where every offset is inside the map; the
// few border columns are flattened into index lists. On x86-64 Linux with GCC the task
// functions are cloned for x86-64-v3 (AVX2 + FMA) next to the baseline and picked at load
// time, so the build needs no -march flag.
//
// Parallelisation. Tasks are (batch, block of output rows), run with at::parallel_for
// (inline for tiny problems). A task owns its output rows, so no two tasks write to the
// same place: the gradients of key and value are written as gathers over -o
// (grad_key(r) = sum_o dc_o(r - o) query(r - o)), never as scatters, and need no atomics.
//
// forward, one pass per task: affinities of the block rows, softmax or sum normalisation
//   in place (the weights output is the only scratch), aggregation of value.
// backward, two passes: (1) dW_o(p) = <grad_out(p), value(p + o)> (+ grad_weights), turned
//   in place into dc (the gradient of the affinities), then grad_query; (2) grad_key and
//   grad_value as gathers over -o (they read dc / weights of neighbouring rows, which
//   pass 1 completed).
// Saved for backward: the weights (B, N, H, W) and the per-pixel normaliser (B, H, W).
#include <ATen/Parallel.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "sparse_local_attention.h"

#if defined(__x86_64__) && defined(__linux__) && defined(__GNUC__) && !defined(__clang__)
#define MMPSLA_CPU_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define MMPSLA_CPU_CLONES
#endif
#define MMPSLA_INLINE inline __attribute__((always_inline))

namespace mmpsla {
namespace {

// Positions i of a length-L axis with 0 <= i < L and 0 <= i + s < L: [lo, hi).
struct Span {
  int lo;
  int hi;
};

MMPSLA_INLINE Span axis_span(int s, int L) { return {std::max(0, -s), std::min(L, L - s)}; }

// Valid rows and columns of one offset, for output rows restricted to [y0, y1).
// shift = +1: pixels p whose p + o is inside; shift = -1: pixels r whose r - o is.
struct OffsetSpan {
  int dy;
  int dx;
  Span y;
  Span x;
  bool empty() const { return y.lo >= y.hi || x.lo >= x.hi; }
};

std::vector<OffsetSpan> offset_spans(const std::vector<std::pair<int, int>>& offs, int H, int W,
                                     int y0, int y1, int shift) {
  std::vector<OffsetSpan> spans;
  spans.reserve(offs.size());
  for (const auto& o : offs) {
    const int dy = shift * o.first;
    const int dx = shift * o.second;
    Span ys = axis_span(dy, H);
    ys.lo = std::max(ys.lo, y0);
    ys.hi = std::min(ys.hi, y1);
    spans.push_back({dy, dx, ys, axis_span(dx, W)});
  }
  return spans;
}

template <typename T>
MMPSLA_INLINE void fma_row(T* __restrict acc, const T* __restrict a, const T* __restrict b,
                           int n) {
  for (int i = 0; i < n; ++i) acc[i] += a[i] * b[i];
}

template <typename T>
MMPSLA_INLINE void zero_rows(T* plane, int W, int y0, int y1) {
  std::memset(plane + static_cast<int64_t>(y0) * W, 0,
              sizeof(T) * static_cast<size_t>(y1 - y0) * W);
}

// Columns are processed in register-resident chunks of kChunk: a chunk [x0, x0 + kChunk)
// lies inside the "interior" [xa, xb) where every offset with a non-empty column span is
// valid, so its inner loop has a fixed trip count and no bounds; the last chunk is moved
// left to end at xb (it overlaps the previous one and recomputes a few columns, which is
// harmless because chunks store, not accumulate). The columns outside the chunks (the map
// border, or everything when the interior is narrower than a chunk) take the row-wise
// path: per offset, a bounded fma_row over the valid part of [0, ca) and [cb, W).
constexpr int kChunk = 32;

struct Layout {
  int W;
  int ca;  // chunks cover [ca, cb); ca == cb when there is none
  int cb;
  std::vector<int> chunk_starts;
};

Layout make_layout(const std::vector<OffsetSpan>& spans, int W) {
  int xa = 0, xb = W;
  for (const auto& s : spans) {
    if (s.x.lo >= s.x.hi) continue;  // contributes nowhere
    xa = std::max(xa, s.x.lo);
    xb = std::min(xb, s.x.hi);
  }
  Layout l{W, 0, 0, {}};
  if (xb - xa >= kChunk) {
    for (int x0 = xa; x0 < xb; x0 += kChunk) l.chunk_starts.push_back(std::min(x0, xb - kChunk));
    l.ca = xa;
    l.cb = xb;
  }
  return l;
}

// Calls f(lo, hi) for the parts of [lo, hi) outside the chunk columns [ca, cb).
template <typename F>
MMPSLA_INLINE void for_edge_segments(const Layout& l, int lo, int hi, F&& f) {
  const int a_hi = std::min(hi, l.ca);
  if (lo < a_hi) f(lo, a_hi);
  const int b_lo = std::max(lo, l.cb);
  if (b_lo < hi) f(b_lo, hi);
}

MMPSLA_INLINE bool row_active(const OffsetSpan& s, int y) {
  return y >= s.y.lo && y < s.y.hi && s.x.lo < s.x.hi;
}

// Border columns are few but split into many short per-offset segments; instead of a
// bounded loop per segment they are flattened, once per task, into a list of index
// triples (out, a, b) applied to every channel as out[i] += a[j] * b[k].
struct EdgeEntry {
  int32_t out;
  int32_t a;
  int32_t b;
};

enum class EdgeKind { kCorrelate, kGather, kTransposed };

template <EdgeKind kKind>
std::vector<EdgeEntry> edge_entries(const std::vector<OffsetSpan>& spans, const Layout& l,
                                    int64_t HW, int W, int y0, int y1) {
  std::vector<EdgeEntry> entries;
  if (l.ca == 0 && l.cb == W) return entries;
  const int64_t N = static_cast<int64_t>(spans.size());
  for (int y = y0; y < y1; ++y) {
    for (int64_t o = 0; o < N; ++o) {
      const OffsetSpan& s = spans[o];
      if (!row_active(s, y)) continue;
      const int64_t row = static_cast<int64_t>(y) * W;
      const int64_t shifted = static_cast<int64_t>(y + s.dy) * W + s.dx;
      for_edge_segments(l, s.x.lo, s.x.hi, [&](int lo, int hi) {
        for (int x = lo; x < hi; ++x) {
          if (kKind == EdgeKind::kCorrelate) {  // acc[o][p] += a[p] * b[p + o]
            entries.push_back({static_cast<int32_t>(o * HW + row + x),
                               static_cast<int32_t>(row + x), static_cast<int32_t>(shifted + x)});
          } else {  // out[p] += w[o][p or p + o] * src[p + o]
            const int64_t wi = o * HW + (kKind == EdgeKind::kTransposed ? shifted : row) + x;
            entries.push_back({static_cast<int32_t>(row + x), static_cast<int32_t>(wi),
                               static_cast<int32_t>(shifted + x)});
          }
        }
      });
    }
  }
  return entries;
}

template <typename T>
MMPSLA_INLINE void apply_entries(T* __restrict out, const T* __restrict a, const T* __restrict b,
                                 const std::vector<EdgeEntry>& entries) {
  for (const EdgeEntry& e : entries) out[e.out] += a[e.a] * b[e.b];
}

// acc[o][y][x] = sum_c a[c][y][x] * b[c][y + dy][x + dx] for valid (x, y, o), 0 elsewhere;
// rows [y0, y1) of the N acc planes are fully rewritten.
template <typename T>
MMPSLA_INLINE void correlate_rows(T* acc, const T* a, const T* b, int64_t Cn, int64_t HW, int W,
                                  int y0, int y1, const std::vector<OffsetSpan>& spans,
                                  const Layout& l) {
  const int64_t N = static_cast<int64_t>(spans.size());
  for (int64_t o = 0; o < N; ++o) zero_rows(acc + o * HW, W, y0, y1);
  // interior chunks: the sums over channels stay in registers; two offsets at a time
  // share the loads of a
  std::vector<int64_t> active;
  active.reserve(static_cast<size_t>(N));
  for (int y = y0; y < y1; ++y) {
    active.clear();
    for (int64_t o = 0; o < N; ++o) {
      if (row_active(spans[o], y)) active.push_back(o);
    }
    const T* ap = a + static_cast<int64_t>(y) * W;
    for (size_t i = 0; i < active.size(); i += 2) {
      const int64_t o0 = active[i];
      const int64_t o1 = i + 1 < active.size() ? active[i + 1] : o0;
      const T* bp0 = b + static_cast<int64_t>(y + spans[o0].dy) * W + spans[o0].dx;
      const T* bp1 = b + static_cast<int64_t>(y + spans[o1].dy) * W + spans[o1].dx;
      T* arow0 = acc + o0 * HW + static_cast<int64_t>(y) * W;
      T* arow1 = acc + o1 * HW + static_cast<int64_t>(y) * W;
      for (const int x0 : l.chunk_starts) {
        T sum0[kChunk] = {}, sum1[kChunk] = {};
        for (int64_t c = 0; c < Cn; ++c) {
          const T* __restrict ac = ap + c * HW + x0;
          const T* __restrict b0 = bp0 + c * HW + x0;
          const T* __restrict b1 = bp1 + c * HW + x0;
          for (int j = 0; j < kChunk; ++j) {
            const T av = ac[j];
            sum0[j] += av * b0[j];
            sum1[j] += av * b1[j];
          }
        }
        for (int j = 0; j < kChunk; ++j) arow0[x0 + j] = sum0[j];
        if (o1 != o0) {
          for (int j = 0; j < kChunk; ++j) arow1[x0 + j] = sum1[j];
        }
      }
    }
  }
  // border columns
  const auto entries = edge_entries<EdgeKind::kCorrelate>(spans, l, HW, W, y0, y1);
  if (entries.empty()) return;
  for (int64_t c = 0; c < Cn; ++c) apply_entries(acc, a + c * HW, b + c * HW, entries);
}

// Rows [y0, y1) of every output plane c are rewritten with
//   gather     (spans built with shift +1): out[c][p] = sum_o w[o][p] src[c][p + o]
//   transposed (spans with shift -1, dy = -o.dy): out[c][r] = sum_o w[o][r - o] src[c][r - o]
template <typename T, bool kTransposed>
MMPSLA_INLINE void aggregate_rows(T* out, const T* w, const T* src, int64_t Cn, int64_t HW, int W,
                                  int y0, int y1, const std::vector<OffsetSpan>& spans,
                                  const Layout& l) {
  const int64_t N = static_cast<int64_t>(spans.size());
  const bool has_border = !(l.ca == 0 && l.cb == W);
  constexpr EdgeKind kKind = kTransposed ? EdgeKind::kTransposed : EdgeKind::kGather;
  const auto entries = edge_entries<kKind>(spans, l, HW, W, y0, y1);
  // two channels at a time share the loads of w; the sums over offsets stay in registers
  for (int64_t c = 0; c < Cn; c += 2) {
    const bool pair = c + 1 < Cn;
    T* oc0 = out + c * HW;
    T* oc1 = oc0 + HW;
    const T* sc0 = src + c * HW;
    const T* sc1 = pair ? sc0 + HW : sc0;  // a lone last channel is computed twice
    if (has_border) {
      zero_rows(oc0, W, y0, y1);
      if (pair) zero_rows(oc1, W, y0, y1);
    }
    for (int y = y0; y < y1; ++y) {
      const int64_t row = static_cast<int64_t>(y) * W;
      for (const int x0 : l.chunk_starts) {
        T sum0[kChunk] = {}, sum1[kChunk] = {};
        for (int64_t o = 0; o < N; ++o) {
          const OffsetSpan& s = spans[o];
          if (!row_active(s, y)) continue;
          const int64_t shifted = row + static_cast<int64_t>(s.dy) * W + s.dx + x0;
          const T* __restrict wr = w + o * HW + (kTransposed ? shifted : row + x0);
          const T* __restrict s0 = sc0 + shifted;
          const T* __restrict s1 = sc1 + shifted;
          for (int j = 0; j < kChunk; ++j) {
            const T wv = wr[j];
            sum0[j] += wv * s0[j];
            sum1[j] += wv * s1[j];
          }
        }
        for (int j = 0; j < kChunk; ++j) oc0[row + x0 + j] = sum0[j];
        if (pair) {
          for (int j = 0; j < kChunk; ++j) oc1[row + x0 + j] = sum1[j];
        }
      }
    }
    if (has_border) {
      apply_entries(oc0, w, sc0, entries);
      if (pair) apply_entries(oc1, w, sc1, entries);
    }
  }
}

// In place: affinities of row y (N planes, invalid entries 0) -> weights; writes denom.
template <typename T>
MMPSLA_INLINE void normalize_row(T* w, T* denom_row, int64_t HW, int W, int y,
                                 const std::vector<OffsetSpan>& spans, Normalize mode, T* m,
                                 T* s) {
  const int64_t r = static_cast<int64_t>(y) * W;
  auto row_valid = [&](const OffsetSpan& sp) {
    return y >= sp.y.lo && y < sp.y.hi && sp.x.lo < sp.x.hi;
  };
  std::fill(s, s + W, T(0));
  if (mode == Normalize::kSoftmax) {
    std::fill(m, m + W, -std::numeric_limits<T>::infinity());
    for (size_t o = 0; o < spans.size(); ++o) {
      if (!row_valid(spans[o])) continue;
      const T* a = w + o * HW + r;
      for (int x = spans[o].x.lo; x < spans[o].x.hi; ++x) m[x] = std::max(m[x], a[x]);
    }
    for (size_t o = 0; o < spans.size(); ++o) {
      if (!row_valid(spans[o])) continue;
      T* a = w + o * HW + r;
      for (int x = spans[o].x.lo; x < spans[o].x.hi; ++x) {
        const T e = std::exp(a[x] - m[x]);
        a[x] = e;
        s[x] += e;
      }
    }
    for (int x = 0; x < W; ++x) {
      denom_row[x] = s[x];
      m[x] = s[x] > T(0) ? T(1) / s[x] : T(0);  // m now holds 1 / s
    }
  } else {
    for (size_t o = 0; o < spans.size(); ++o) {
      if (!row_valid(spans[o])) continue;
      const T* a = w + o * HW + r;
      for (int x = spans[o].x.lo; x < spans[o].x.hi; ++x) s[x] += a[x];
    }
    for (int x = 0; x < W; ++x) {
      const T d = s[x] + static_cast<T>(kSumEps);
      denom_row[x] = d;
      m[x] = T(1) / d;
    }
  }
  for (size_t o = 0; o < spans.size(); ++o) {
    if (!row_valid(spans[o])) continue;
    T* a = w + o * HW + r;
    for (int x = spans[o].x.lo; x < spans[o].x.hi; ++x) a[x] *= m[x];
  }
}

// In place: dW (gradient wrt the weights) of row y -> dc (gradient wrt the affinities).
template <typename T>
MMPSLA_INLINE void normalize_backward_row(T* dw, const T* w, const T* denom_row, int64_t HW, int W,
                                          int y, const std::vector<OffsetSpan>& spans,
                                          Normalize mode, T* dot) {
  const int64_t r = static_cast<int64_t>(y) * W;
  std::fill(dot, dot + W, T(0));
  for (size_t o = 0; o < spans.size(); ++o) {
    const T* a = w + o * HW + r;
    const T* g = dw + o * HW + r;
    for (int x = 0; x < W; ++x) dot[x] += a[x] * g[x];
  }
  for (size_t o = 0; o < spans.size(); ++o) {
    const OffsetSpan& sp = spans[o];
    T* g = dw + o * HW + r;
    const bool valid = y >= sp.y.lo && y < sp.y.hi && sp.x.lo < sp.x.hi;
    const int lo = valid ? sp.x.lo : W;
    const int hi = valid ? sp.x.hi : W;
    for (int x = 0; x < lo; ++x) g[x] = T(0);
    for (int x = hi; x < W; ++x) g[x] = T(0);
    const T* a = w + o * HW + r;
    if (mode == Normalize::kSoftmax) {
      for (int x = lo; x < hi; ++x) g[x] = a[x] * (g[x] - dot[x]);
    } else {
      for (int x = lo; x < hi; ++x) g[x] = (g[x] - dot[x]) / denom_row[x];
    }
  }
}

template <typename T>
struct Problem {
  const T* query;
  const T* key;
  const T* value;
  int64_t C, Cv, H, W;
  const std::vector<std::pair<int, int>>* offs;
  Normalize mode;
  int64_t rows_per_task;
  int64_t tasks_per_image;
  int64_t grain;  // tasks below which at::parallel_for runs inline (tiny problems)
};

template <typename T>
struct Task {
  int64_t b;
  int y0;
  int y1;
};

template <typename T>
MMPSLA_INLINE Task<T> make_task(const Problem<T>& p, int64_t t) {
  const int64_t b = t / p.tasks_per_image;
  const int64_t blk = t % p.tasks_per_image;
  const int y0 = static_cast<int>(blk * p.rows_per_task);
  const int y1 = static_cast<int>(std::min<int64_t>(p.H, y0 + p.rows_per_task));
  return {b, y0, y1};
}

template <typename T>
MMPSLA_INLINE void forward_task_impl(const Problem<T>& p, int64_t t, T* out, T* weights,
                                     T* denom) {
  const Task<T> tk = make_task(p, t);
  const int H = static_cast<int>(p.H), W = static_cast<int>(p.W);
  const int64_t HW = p.H * p.W, N = static_cast<int64_t>(p.offs->size());
  const auto spans = offset_spans(*p.offs, H, W, tk.y0, tk.y1, 1);
  const Layout layout = make_layout(spans, W);
  T* w = weights + tk.b * N * HW;
  correlate_rows(w, p.query + tk.b * p.C * HW, p.key + tk.b * p.C * HW, p.C, HW, W, tk.y0, tk.y1,
                 spans, layout);
  std::vector<T> scratch(2 * static_cast<size_t>(W));
  for (int y = tk.y0; y < tk.y1; ++y) {
    normalize_row(w, denom + tk.b * HW + static_cast<int64_t>(y) * W, HW, W, y, spans, p.mode,
                  scratch.data(), scratch.data() + W);
  }
  aggregate_rows<T, false>(out + tk.b * p.Cv * HW, w, p.value + tk.b * p.Cv * HW, p.Cv, HW, W,
                           tk.y0, tk.y1, spans, layout);
}

template <typename T>
MMPSLA_INLINE void backward_pass1_impl(const Problem<T>& p, int64_t t, const T* grad_out,
                                       const T* grad_weights, const T* weights, const T* denom,
                                       T* dc, T* grad_query) {
  const Task<T> tk = make_task(p, t);
  const int H = static_cast<int>(p.H), W = static_cast<int>(p.W);
  const int64_t HW = p.H * p.W, N = static_cast<int64_t>(p.offs->size());
  const auto spans = offset_spans(*p.offs, H, W, tk.y0, tk.y1, 1);
  const Layout layout = make_layout(spans, W);
  T* g = dc + tk.b * N * HW;
  correlate_rows(g, grad_out + tk.b * p.Cv * HW, p.value + tk.b * p.Cv * HW, p.Cv, HW, W, tk.y0,
                 tk.y1, spans, layout);
  if (grad_weights != nullptr) {
    const int64_t first = static_cast<int64_t>(tk.y0) * W;
    const int64_t rows = static_cast<int64_t>(tk.y1 - tk.y0) * W;
    for (int64_t o = 0; o < N; ++o) {
      T* __restrict go = g + o * HW + first;
      const T* __restrict gw = grad_weights + (tk.b * N + o) * HW + first;
      for (int64_t i = 0; i < rows; ++i) go[i] += gw[i];
    }
  }
  std::vector<T> scratch(static_cast<size_t>(W));
  for (int y = tk.y0; y < tk.y1; ++y) {
    normalize_backward_row(g, weights + tk.b * N * HW, denom + tk.b * HW + static_cast<int64_t>(y) * W,
                           HW, W, y, spans, p.mode, scratch.data());
  }
  aggregate_rows<T, false>(grad_query + tk.b * p.C * HW, g, p.key + tk.b * p.C * HW, p.C, HW, W,
                           tk.y0, tk.y1, spans, layout);
}

template <typename T>
MMPSLA_INLINE void backward_pass2_impl(const Problem<T>& p, int64_t t, const T* grad_out,
                                       const T* weights, const T* dc, T* grad_key,
                                       T* grad_value) {
  const Task<T> tk = make_task(p, t);
  const int H = static_cast<int>(p.H), W = static_cast<int>(p.W);
  const int64_t HW = p.H * p.W, N = static_cast<int64_t>(p.offs->size());
  const auto spans = offset_spans(*p.offs, H, W, tk.y0, tk.y1, -1);
  const Layout layout = make_layout(spans, W);
  aggregate_rows<T, true>(grad_key + tk.b * p.C * HW, dc + tk.b * N * HW,
                          p.query + tk.b * p.C * HW, p.C, HW, W, tk.y0, tk.y1, spans, layout);
  aggregate_rows<T, true>(grad_value + tk.b * p.Cv * HW, weights + tk.b * N * HW,
                          grad_out + tk.b * p.Cv * HW, p.Cv, HW, W, tk.y0, tk.y1, spans, layout);
}

// Non-template entry points (one per dtype) so that they can be cloned per ISA.
#define MMPSLA_DEFINE_TASKS(T)                                                                  \
  MMPSLA_CPU_CLONES void forward_task(const Problem<T>& p, int64_t t, T* out, T* weights,       \
                                      T* denom) {                                               \
    forward_task_impl<T>(p, t, out, weights, denom);                                            \
  }                                                                                             \
  MMPSLA_CPU_CLONES void backward_pass1(const Problem<T>& p, int64_t t, const T* grad_out,      \
                                        const T* grad_weights, const T* weights,                \
                                        const T* denom, T* dc, T* grad_query) {                 \
    backward_pass1_impl<T>(p, t, grad_out, grad_weights, weights, denom, dc, grad_query);       \
  }                                                                                             \
  MMPSLA_CPU_CLONES void backward_pass2(const Problem<T>& p, int64_t t, const T* grad_out,      \
                                        const T* weights, const T* dc, T* grad_key,             \
                                        T* grad_value) {                                        \
    backward_pass2_impl<T>(p, t, grad_out, weights, dc, grad_key, grad_value);                  \
  }

MMPSLA_DEFINE_TASKS(float)
MMPSLA_DEFINE_TASKS(double)
#undef MMPSLA_DEFINE_TASKS

template <typename T>
Problem<T> make_problem(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                        const std::vector<std::pair<int, int>>& offs, int64_t normalize) {
  Problem<T> p;
  p.query = q.data_ptr<T>();
  p.key = k.data_ptr<T>();
  p.value = v.data_ptr<T>();
  p.C = q.size(1);
  p.Cv = v.size(1);
  p.H = q.size(2);
  p.W = q.size(3);
  p.offs = &offs;
  p.mode = static_cast<Normalize>(normalize);
  TORCH_CHECK(static_cast<int64_t>(offs.size()) * p.H * p.W < (int64_t(1) << 31),
              "psla (CPU): N * H * W must be below 2^31");
  // Enough tasks to balance the threads, few enough rows per task to keep the weight
  // slab of a task cache resident.
  const int64_t B = q.size(0);
  const int64_t threads = std::max<int64_t>(1, at::get_num_threads());
  const int64_t want = (B * p.H + 4 * threads - 1) / (4 * threads);
  p.rows_per_task = std::max<int64_t>(1, std::min<int64_t>(4, want));
  p.tasks_per_image = (p.H + p.rows_per_task - 1) / p.rows_per_task;
  // Waking the thread pool costs microseconds (milliseconds on a loaded machine): run
  // problems of less than ~64k multiply-adds on the calling thread.
  const int64_t work = std::max<int64_t>(
      1, p.rows_per_task * p.W * static_cast<int64_t>(offs.size()) * (p.C + p.Cv));
  p.grain = std::max<int64_t>(1, (int64_t(1) << 16) / work);
  return p;
}

void check_cpu(const at::Tensor& t, const char* name) {
  TORCH_CHECK(t.device().is_cpu(), "psla (CPU): ", name, " must be a CPU tensor, got ",
              t.device());
  TORCH_CHECK(t.scalar_type() == at::kFloat || t.scalar_type() == at::kDouble,
              "psla (CPU): ", name, " must be float32 or float64, got ", t.scalar_type());
}

}  // namespace

std::vector<at::Tensor> psla_forward_cpu(const at::Tensor& query_in, const at::Tensor& key_in,
                                         const at::Tensor& value_in, const at::Tensor& offsets,
                                         int64_t normalize) {
  check_forward_inputs(query_in, key_in, value_in, offsets, normalize);
  check_cpu(query_in, "query");
  const auto offs = offsets_to_host(offsets);
  const at::Tensor query = query_in.contiguous(), key = key_in.contiguous(),
                   value = value_in.contiguous();
  const int64_t B = query.size(0), H = query.size(2), W = query.size(3);
  const int64_t N = static_cast<int64_t>(offs.size());
  at::Tensor out = at::empty({B, value.size(1), H, W}, value.options());
  at::Tensor weights = at::empty({B, N, H, W}, query.options());
  at::Tensor denom = at::empty({B, H, W}, query.options());
  if (out.numel() == 0 || weights.numel() == 0) {
    out.zero_();
    weights.zero_();
    denom.zero_();
    return {out, weights, denom};
  }
  AT_DISPATCH_FLOATING_TYPES(query.scalar_type(), "psla_forward_cpu", [&] {
    const Problem<scalar_t> p = make_problem<scalar_t>(query, key, value, offs, normalize);
    scalar_t* o = out.data_ptr<scalar_t>();
    scalar_t* w = weights.data_ptr<scalar_t>();
    scalar_t* d = denom.data_ptr<scalar_t>();
    at::parallel_for(0, B * p.tasks_per_image, p.grain, [&](int64_t begin, int64_t end) {
      for (int64_t t = begin; t < end; ++t) forward_task(p, t, o, w, d);
    });
  });
  return {out, weights, denom};
}

std::vector<at::Tensor> psla_backward_cpu(const at::Tensor& grad_out_in,
                                          const std::optional<at::Tensor>& grad_weights_in,
                                          const at::Tensor& query_in, const at::Tensor& key_in,
                                          const at::Tensor& value_in, const at::Tensor& offsets,
                                          const at::Tensor& weights_in, const at::Tensor& denom_in,
                                          int64_t normalize) {
  check_forward_inputs(query_in, key_in, value_in, offsets, normalize);
  check_cpu(query_in, "query");
  const auto offs = offsets_to_host(offsets);
  const int64_t B = query_in.size(0), H = query_in.size(2), W = query_in.size(3);
  const int64_t N = static_cast<int64_t>(offs.size());
  TORCH_CHECK(grad_out_in.sizes() == value_in.sizes(), "psla backward: grad_out must have shape ",
              value_in.sizes(), ", got ", grad_out_in.sizes());
  TORCH_CHECK(weights_in.sizes() == at::IntArrayRef({B, N, H, W}),
              "psla backward: weights must have shape (B, N, H, W)");
  TORCH_CHECK(denom_in.sizes() == at::IntArrayRef({B, H, W}),
              "psla backward: denom must have shape (B, H, W)");
  const auto dtype = query_in.scalar_type();
  const at::Tensor query = query_in.contiguous(), key = key_in.contiguous(),
                   value = value_in.contiguous();
  const at::Tensor grad_out = grad_out_in.to(dtype).contiguous();
  const at::Tensor weights = weights_in.to(dtype).contiguous();
  const at::Tensor denom = denom_in.to(dtype).contiguous();
  at::Tensor grad_weights;
  if (grad_weights_in.has_value() && grad_weights_in->defined()) {
    TORCH_CHECK(grad_weights_in->sizes() == weights.sizes(),
                "psla backward: grad_weights must have shape (B, N, H, W)");
    grad_weights = grad_weights_in->to(dtype).contiguous();
  }
  at::Tensor grad_query = at::empty_like(query);
  at::Tensor grad_key = at::empty_like(key);
  at::Tensor grad_value = at::empty_like(value);
  if (weights.numel() == 0 || value.numel() == 0) {
    return {grad_query.zero_(), grad_key.zero_(), grad_value.zero_()};
  }
  at::Tensor dc = at::empty_like(weights);
  AT_DISPATCH_FLOATING_TYPES(dtype, "psla_backward_cpu", [&] {
    const Problem<scalar_t> p = make_problem<scalar_t>(query, key, value, offs, normalize);
    const scalar_t* go = grad_out.data_ptr<scalar_t>();
    const scalar_t* gw = grad_weights.defined() ? grad_weights.data_ptr<scalar_t>() : nullptr;
    const scalar_t* w = weights.data_ptr<scalar_t>();
    const scalar_t* d = denom.data_ptr<scalar_t>();
    scalar_t* g = dc.data_ptr<scalar_t>();
    scalar_t* gq = grad_query.data_ptr<scalar_t>();
    scalar_t* gk = grad_key.data_ptr<scalar_t>();
    scalar_t* gv = grad_value.data_ptr<scalar_t>();
    const int64_t tasks = B * p.tasks_per_image;
    at::parallel_for(0, tasks, p.grain, [&](int64_t begin, int64_t end) {
      for (int64_t t = begin; t < end; ++t) backward_pass1(p, t, go, gw, w, d, g, gq);
    });
    at::parallel_for(0, tasks, p.grain, [&](int64_t begin, int64_t end) {
      for (int64_t t = begin; t < end; ++t) backward_pass2(p, t, go, w, g, gk, gv);
    });
  });
  return {grad_query, grad_key, grad_value};
}

}  // namespace mmpsla

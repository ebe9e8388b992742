// CUDA kernels of the PSLA operator (maths in ../sparse_local_attention.h), written so that
// the same kernel bodies also compile with a host C++ compiler and run on the CPU.
//
// Portability: the execution policies (DeviceExec on the GPU, HostExec / HostGrid on the
// CPU) and the conversions are in common.cuh.
// Kernels are sequences of block-uniform phases `ex.each(...)` separated by `ex.sync()`
// (the only way they are written), so running the phases one after the other for all
// threads of a block is exactly the GPU semantics of a barrier. Per-thread values do not
// outlive a phase (they live in the lambda); what crosses a barrier is in shared memory,
// which the CPU launcher (`HostGrid`) allocates per block and fills with NaN first, so a
// read of shared memory that no phase wrote shows up. `__global__` wrappers exist only
// under nvcc; the CPU runner is mmpsla::cuda::HostGrid (used by cpu/cuda_kernels_on_cpu.cpp,
// a test-only binding). T is the storage type (float, double, half, bfloat16: on the CPU
// c10::Half / c10::BFloat16), A the accumulation type (double for double, else float).
//
// Kernels.
//  psla_fused_kernel<T, A, kBackward>: one block = one tile of TH x TW pixels of one image
//   (one thread per pixel), three phases, nothing but the outputs goes to global memory:
//   A  logits  l_o(p) = sum_c a_c(p) b_c(p + o)   (chunks of kChunk channels: the a tile and
//              the b halo tile (TH + ry) x (TW + rx) are staged in shared memory; the N x TP
//              logits stay in shared memory across chunks)
//   B  forward:  masked softmax / sum normalisation in place -> weights (also written to
//              global memory: they are an output and the backward input) and denom
//      backward: dW (+ grad_weights) -> dc with the saved weights / denom; dc is written to
//              global memory (the transposed gathers below need the neighbours' dc)
//   C  out(p) = sum_o w_o(p) s(p + o) with the weights read from shared memory and s
//              through a halo tile in shared memory, kChunk channels per pass, the kChunk
//              sums in registers (one weight load feeds kChunk FMAs)
//   forward:  a = query, b = key, s = value  -> out, weights, denom
//   backward: a = grad_out, b = value, s = key -> dc, grad_query
//  psla_transposed_kernel: out(r) = sum_o w_o(r - o) s(r - o) (grid-stride, one output
//   element per thread): grad_key = T(dc, query), grad_value = T(weights, grad_out).
//
// Roofline (bytes-moved model of the fused forward, H100 SXM 3.35 TB/s, H200 4.8 TB/s;
// fp32 CUDA-core peak ~67 TFLOP/s on both). Per image of HW pixels, DRAM traffic is at least
//   read  q, k: 2 C HW sizeof(T),  v: Cv HW sizeof(T)
//   write out:  Cv HW sizeof(T),   weights + denom: (N + 1) HW sizeof(A)
// (the halo re-reads of k and v, (TH + ry)(TW + rx) / (TH TW) = 2.5x for d = 4 and an 8 x 32
// tile, are served by L2: neighbouring tiles run at the same time). Paper size (C 256,
// Cv 1024, 38 x 63, N 33) in fp32: 24.5 + 0.3 MB -> 7.4 us at 3.35 TB/s, 5.2 us at 4.8 TB/s;
// large (B 4, 75 x 125): 385 MB -> 115 us / 80 us. The arithmetic, 2 HW N (C + Cv) =
// 0.20 GFLOP (paper) / 3.2 GFLOP (large), is 3 us / 47 us at 67 TFLOP/s: intensity
// ~8 FLOP/byte in fp32, below the ~14 FLOP/byte ridge, so DRAM is the bound to design for,
// and fp16/bf16 (half the bytes, fp32 maths) sit near the ridge. The weights never make a
// round trip through DRAM (the unfused version wrote and re-read N HW floats twice and
// re-read q/k/v per offset from L2). Shared memory: every FMA of phases A and C reads one
// staged operand (plus 1/kChunk of a shared one), which at 32 words/clock/SM caps the
// kernel at roughly a quarter of the FMA peak, about 10-15 us at the paper size on H100:
// above the DRAM bound, below the launch-overhead floor of the three-kernel version.
#pragma once

#include "cuda/common.cuh"

namespace mmpsla {
namespace cuda {

constexpr int kChunk = 8;      // channels staged per pass of the fused kernel
constexpr int kTileW = 32;     // tile width of the fused kernel (one warp per tile row)
constexpr double kSumEpsilon = 1e-6;

MMPSLA_HD float acc_exp(float x) {
#if defined(__CUDA_ARCH__)
  return __expf(x);
#else
  return std::exp(x);
#endif
}
MMPSLA_HD double acc_exp(double x) {
#if defined(__CUDA_ARCH__)
  return exp(x);
#else
  return std::exp(x);
#endif
}
template <typename A>
MMPSLA_HD A acc_max(A a, A b) {
  return a > b ? a : b;
}
template <typename A>
MMPSLA_HD A neg_inf() {
  return -static_cast<A>(INFINITY);
}

// -------------------------------------------------------------------- the fused kernel
template <typename T, typename A>
struct FusedParams {
  // phase A: logits = <a(p), b(p + o)> over Ca channels
  const T* a;
  const T* b;
  int Ca;
  // phase C: out(p) = sum_o w_o(p) s(p + o) over Cs channels
  const T* s;
  T* out;
  int Cs;
  const int* offsets;  // (N, 2) (dy, dx)
  int N, B, H, W, mode;
  // forward outputs
  A* weights;  // (B, N, H, W)
  A* denom;    // (B, H, W)
  // backward inputs and output
  const A* saved_weights;  // (B, N, H, W)
  const A* saved_denom;    // (B, H, W)
  const A* grad_weights;   // (B, N, H, W) or nullptr
  A* dc;                   // (B, N, H, W)
  // tiling (FusedPlan)
  int TH, tiles_y, tiles_x, groups, group_channels, ylo, yhi, xlo, xhi;
};

// Tile and shared memory of a fused launch. Offsets with |dy| >= H or |dx| >= W are valid
// nowhere; the halo covers the others: dy in [ylo, yhi], dx in [xlo, xhi] (0 included).
struct FusedPlan {
  int TH, tiles_y, tiles_x, groups, group_channels, ylo, yhi, xlo, xhi;
  int blocks, threads;
  size_t smem_bytes;
};

inline size_t fused_smem_bytes(int TH, int N, int ry, int rx, size_t acc_size) {
  const size_t tp = static_cast<size_t>(TH) * kTileW;
  const size_t halo = static_cast<size_t>(TH + ry) * (kTileW + rx);
  return acc_size * (N * tp + kChunk * halo + kChunk * tp);
}

// offsets: host (dy, dx) pairs, 2 N ints. Picks the tallest tile (8, 4, 2, 1 rows) whose
// shared memory fits smem_limit (smem_bytes > smem_limit means that none does). Small maps
// have few tiles (the paper's 38 x 63 map: 10), so the phase-C channels (Cs) are split over
// `groups` blocks per tile until about target_blocks blocks run; each of them repeats
// phases A and B (the affinities, C / (C + Cv) of the work) and only group 0 writes them.
inline FusedPlan plan_fused(const int* offsets, int N, int B, int H, int W, int Cs,
                            size_t acc_size, size_t smem_limit, int target_blocks) {
  FusedPlan p{};
  for (int o = 0; o < N; ++o) {
    const int dy = offsets[2 * o], dx = offsets[2 * o + 1];
    if (dy <= -H || dy >= H || dx <= -W || dx >= W) continue;
    p.ylo = dy < p.ylo ? dy : p.ylo;
    p.yhi = dy > p.yhi ? dy : p.yhi;
    p.xlo = dx < p.xlo ? dx : p.xlo;
    p.xhi = dx > p.xhi ? dx : p.xhi;
  }
  const int ry = p.yhi - p.ylo, rx = p.xhi - p.xlo;
  for (p.TH = 8; p.TH > 1; p.TH /= 2) {
    if (p.TH / 2 >= H && p.TH > 1) continue;  // no taller than the map needs
    if (fused_smem_bytes(p.TH, N, ry, rx, acc_size) <= smem_limit) break;
  }
  p.smem_bytes = fused_smem_bytes(p.TH, N, ry, rx, acc_size);
  p.threads = p.TH * kTileW;
  p.tiles_y = (H + p.TH - 1) / p.TH;
  p.tiles_x = (W + kTileW - 1) / kTileW;
  const int tiles = B * p.tiles_y * p.tiles_x;
  const int chunks = Cs > 0 ? (Cs + kChunk - 1) / kChunk : 1;
  int groups = (target_blocks + tiles - 1) / tiles;
  groups = groups < 1 ? 1 : groups > chunks ? chunks : groups;
  p.group_channels = (chunks + groups - 1) / groups * kChunk;
  p.groups = (Cs + p.group_channels - 1) / p.group_channels;
  p.groups = p.groups < 1 ? 1 : p.groups;
  p.blocks = tiles * p.groups;
  return p;
}

template <typename T, typename A>
MMPSLA_HD void set_plan(FusedParams<T, A>& f, const FusedPlan& p) {
  f.TH = p.TH;
  f.tiles_y = p.tiles_y;
  f.tiles_x = p.tiles_x;
  f.groups = p.groups;
  f.group_channels = p.group_channels;
  f.ylo = p.ylo;
  f.yhi = p.yhi;
  f.xlo = p.xlo;
  f.xhi = p.xhi;
}

// Stages kChunk channels [c0, c0 + kChunk) (those below c_end) of src (B, C, H, W), image b,
// into a zero-padded
// (kChunk, rows, cols) tile whose (0, 0) is map position (y0, x0). Threads stride the tile.
template <typename T, typename A>
MMPSLA_HD void stage_tile(int t, int nthreads, const T* src, int b, int C, int c0, int c_end,
                          int H, int W, int y0, int x0, int rows, int cols, A* tile) {
  const int64_t HW = static_cast<int64_t>(H) * W;
  const int n = kChunk * rows * cols;
  for (int e = t; e < n; e += nthreads) {
    const int c = e / (rows * cols), r = e % (rows * cols) / cols, x = e % cols;
    const int gy = y0 + r, gx = x0 + x;
    A v = A(0);
    if (c0 + c < c_end && inside(gy, gx, H, W)) {
      v = to_acc(src[(static_cast<int64_t>(b) * C + c0 + c) * HW + static_cast<int64_t>(gy) * W + gx]);
    }
    tile[e] = v;
  }
}

template <typename T, typename A, bool kBackward, class Exec>
MMPSLA_HD void fused_tile(const Exec& ex, const FusedParams<T, A>& p, unsigned char* smem) {
  const int TW = kTileW, TP = p.TH * kTileW;
  const int HR = p.TH + p.yhi - p.ylo, HC = TW + p.xhi - p.xlo;  // halo tile rows, cols
  const int HS = HR * HC;
  A* ls = reinterpret_cast<A*>(smem);  // (N, TP): logits -> weights / dc
  A* hs = ls + p.N * TP;               // (kChunk, HR, HC): b or s halo tile
  A* as = hs + kChunk * HS;            // (kChunk, TP): a tile
  const int group = ex.block() % p.groups, blk = ex.block() / p.groups;
  const bool writer = group == 0;  // the block of the tile that writes weights / dc
  const int cs0 = group * p.group_channels;
  const int cs1 = cs0 + p.group_channels < p.Cs ? cs0 + p.group_channels : p.Cs;
  const int b = blk / (p.tiles_y * p.tiles_x);
  const int y0 = blk / p.tiles_x % p.tiles_y * p.TH, x0 = blk % p.tiles_x * TW;
  const int H = p.H, W = p.W, N = p.N, nthreads = ex.threads();
  const int64_t HW = static_cast<int64_t>(H) * W;
  auto live = [&](int o) {
    const int dy = p.offsets[2 * o], dx = p.offsets[2 * o + 1];
    return dy >= p.ylo && dy <= p.yhi && dx >= p.xlo && dx <= p.xhi && dy > -H && dy < H &&
           dx > -W && dx < W;
  };
  // ---- A: logits over chunks of channels (thread t owns column t of the logits)
  ex.each([&](int t) {
    for (int o = 0; o < N; ++o) ls[o * TP + t] = A(0);
  });
  for (int c0 = 0; c0 < p.Ca; c0 += kChunk) {
    ex.each([&](int t) {
      stage_tile(t, nthreads, p.a, b, p.Ca, c0, p.Ca, H, W, y0, x0, p.TH, TW, as);
      stage_tile(t, nthreads, p.b, b, p.Ca, c0, p.Ca, H, W, y0 + p.ylo, x0 + p.xlo, HR, HC, hs);
    });
    ex.sync();
    ex.each([&](int t) {
      const int py = t / TW, px = t % TW;
      A ar[kChunk];
      for (int c = 0; c < kChunk; ++c) ar[c] = as[c * TP + t];
      for (int o = 0; o < N; ++o) {
        if (!live(o)) continue;
        const A* bp = hs + (py + p.offsets[2 * o] - p.ylo) * HC + px + p.offsets[2 * o + 1] - p.xlo;
        A acc = ls[o * TP + t];
        for (int c = 0; c < kChunk; ++c) acc += ar[c] * bp[c * HS];
        ls[o * TP + t] = acc;
      }
    });
    ex.sync();
  }
  // ---- B: normalisation (forward) or its gradient (backward), per pixel
  ex.each([&](int t) {
    const int y = y0 + t / TW, x = x0 + t % TW;
    const bool pixel = y < H && x < W, write = pixel && writer;
    auto valid = [&](int o) {
      return pixel && live(o) && inside(y + p.offsets[2 * o], x + p.offsets[2 * o + 1], H, W);
    };
    const int64_t pix = static_cast<int64_t>(b) * HW + static_cast<int64_t>(y) * W + x;
    auto at = [&](int o) { return (static_cast<int64_t>(b) * N + o) * HW + static_cast<int64_t>(y) * W + x; };
    if (!kBackward) {
      A s = 0;
      if (p.mode == 0) {
        A m = neg_inf<A>();
        for (int o = 0; o < N; ++o) {
          if (valid(o)) m = acc_max(m, ls[o * TP + t]);
        }
        for (int o = 0; o < N; ++o) {
          const A e = valid(o) ? acc_exp(ls[o * TP + t] - m) : A(0);
          ls[o * TP + t] = e;
          s += e;
        }
        const A inv = s > A(0) ? A(1) / s : A(0);
        for (int o = 0; o < N; ++o) ls[o * TP + t] *= inv;
      } else {
        for (int o = 0; o < N; ++o) {
          if (valid(o)) s += ls[o * TP + t];
        }
        s += static_cast<A>(kSumEpsilon);
        for (int o = 0; o < N; ++o) ls[o * TP + t] = valid(o) ? ls[o * TP + t] / s : A(0);
      }
      if (write) {
        p.denom[pix] = s;
        for (int o = 0; o < N; ++o) p.weights[at(o)] = ls[o * TP + t];
      }
    } else {
      A dot = 0;
      for (int o = 0; o < N; ++o) {
        if (!valid(o)) continue;
        A g = ls[o * TP + t];
        if (p.grad_weights != nullptr) g += p.grad_weights[at(o)];
        ls[o * TP + t] = g;
        dot += p.saved_weights[at(o)] * g;
      }
      const A d = pixel ? p.saved_denom[pix] : A(1);
      for (int o = 0; o < N; ++o) {
        A dc = 0;
        if (valid(o)) {
          const A diff = ls[o * TP + t] - dot;
          dc = p.mode == 0 ? p.saved_weights[at(o)] * diff : diff / d;
        }
        ls[o * TP + t] = dc;
        if (write) p.dc[at(o)] = dc;
      }
    }
  });
  ex.sync();
  // ---- C: aggregation over chunks of channels
  for (int c0 = cs0; c0 < cs1; c0 += kChunk) {
    ex.each([&](int t) {
      stage_tile(t, nthreads, p.s, b, p.Cs, c0, cs1, H, W, y0 + p.ylo, x0 + p.xlo, HR, HC, hs);
    });
    ex.sync();
    ex.each([&](int t) {
      const int py = t / TW, px = t % TW, y = y0 + py, x = x0 + px;
      A acc[kChunk];
      for (int c = 0; c < kChunk; ++c) acc[c] = A(0);
      for (int o = 0; o < N; ++o) {
        if (!live(o)) continue;
        const A w = ls[o * TP + t];
        const A* sp = hs + (py + p.offsets[2 * o] - p.ylo) * HC + px + p.offsets[2 * o + 1] - p.xlo;
        for (int c = 0; c < kChunk; ++c) acc[c] += w * sp[c * HS];
      }
      if (y < H && x < W) {
        for (int c = 0; c < kChunk && c0 + c < cs1; ++c) {
          p.out[(static_cast<int64_t>(b) * p.Cs + c0 + c) * HW + static_cast<int64_t>(y) * W + x] =
              from_acc<T>(acc[c]);
        }
      }
    });
    ex.sync();
  }
}

// -------------------------------------------------------- the transposed (gather) kernel
// out[b][c][r] = sum_o w[b][o][r - o] * s[b][c][r - o] over offsets with r - o inside.
template <typename T, typename A>
struct TransposedParams {
  const A* w;  // (B, N, H, W)
  const T* s;  // (B, C, H, W)
  T* out;      // (B, C, H, W)
  const int* offsets;
  int B, C, H, W, N;
};

template <typename T, typename A, class Exec>
MMPSLA_HD void transposed_gather(const Exec& ex, const TransposedParams<T, A>& p) {
  ex.each([&](int t) {
    const int64_t HW = static_cast<int64_t>(p.H) * p.W;
    const int64_t total = static_cast<int64_t>(p.B) * p.C * HW;
    const int64_t stride = static_cast<int64_t>(ex.threads()) * ex.grid();
    for (int64_t idx = static_cast<int64_t>(ex.block()) * ex.threads() + t; idx < total;
         idx += stride) {
      const int64_t r = idx % HW, b = idx / HW / p.C;
      const int y = static_cast<int>(r / p.W), x = static_cast<int>(r % p.W);
      const A* wb = p.w + b * p.N * HW;
      const T* sc = p.s + (idx - r);  // plane (b, c)
      A sum = 0;
      for (int o = 0; o < p.N; ++o) {
        const int yy = y - p.offsets[2 * o], xx = x - p.offsets[2 * o + 1];
        if (!inside(yy, xx, p.H, p.W)) continue;
        const int64_t q = static_cast<int64_t>(yy) * p.W + xx;
        sum += wb[o * HW + q] * to_acc(sc[q]);
      }
      p.out[idx] = from_acc<T>(sum);
    }
  });
}

#if defined(__CUDACC__)
template <typename T, typename A, bool kBackward>
__global__ void psla_fused_kernel(FusedParams<T, A> p) {
  extern __shared__ __align__(16) unsigned char psla_smem[];
  fused_tile<T, A, kBackward>(DeviceExec(), p, psla_smem);
}

template <typename T, typename A>
__global__ void __launch_bounds__(kThreads) psla_transposed_kernel(TransposedParams<T, A> p) {
  transposed_gather<T, A>(DeviceExec(), p);
}
#endif

}  // namespace cuda
}  // namespace mmpsla

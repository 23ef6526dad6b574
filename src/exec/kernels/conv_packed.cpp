#include "exec/kernels/conv_packed.hpp"

#include <algorithm>
#include <cstring>
#include <tuple>
#include <vector>

#include "core/parallel.hpp"
#include "exec/kernels/conv_phases.hpp"

namespace onnxq::exec {

using conv_packed_detail::kCols;
using conv_packed_detail::kRows;

namespace {

// Block sizes: a packed block (kBlockK x kBlockCols floats, 256 KiB) stays in L2 while
// every row panel of the weights passes over it.
constexpr int64_t kBlockK = 256;
constexpr int64_t kBlockCols = 256;
static_assert(kBlockCols % kCols == 0);

// One row of the implicit im2col matrix (input channel image `img`, tap kh, kw) for output
// positions [n0, n0 + count), written contiguously to dst; taps in padding read 0.
void gather_row(const float* img, const WindowGeometry& g, int64_t kh, int64_t kw, int64_t n0, int64_t count,
                float* dst) {
  const int64_t H = g.in[0], W = g.in[1], OW = g.out[1];
  const int64_t sh = g.strides[0], sw = g.strides[1];
  const int64_t off_h = kh * g.dilations[0] - g.pad_begin[0], off_w = kw * g.dilations[1] - g.pad_begin[1];
  // Output columns whose tap lands inside [0, W): ow in [lo, hi).
  int64_t lo = off_w >= 0 ? 0 : (-off_w + sw - 1) / sw;
  int64_t hi = W - off_w <= 0 ? 0 : (W - off_w + sw - 1) / sw;
  lo = std::min(lo, OW);
  hi = std::clamp(hi, lo, OW);
  int64_t oh = n0 / OW, ow = n0 % OW;
  for (int64_t done = 0; done < count; ++oh, ow = 0) {
    const int64_t end = std::min(OW, ow + (count - done));  // this output row's part: [ow, end)
    float* out = dst + done - ow;                           // out[x] is output column x
    const int64_t ih = oh * sh + off_h;
    if (ih < 0 || ih >= H) {
      std::fill(out + ow, out + end, 0.0f);
    } else {
      const float* src = img + ih * W + off_w;
      const int64_t a = std::clamp(lo, ow, end), b = std::clamp(hi, a, end);
      std::fill(out + ow, out + a, 0.0f);
      if (sw == 1)
        std::memcpy(out + a, src + a, static_cast<size_t>(b - a) * sizeof(float));
#if defined(ONNXQ_GEMM_AVX512)
      else if (sw == 2)
        conv_packed_detail::copy_stride2_avx512(src + 2 * a, b - a, out + a);
#endif
      else
        for (int64_t x = a; x < b; ++x) out[x] = src[x * sw];
      std::fill(out + b, out + end, 0.0f);
    }
    done += end - ow;
  }
}

// Rows [k0, k0 + kc) of the implicit im2col matrix of one image, for output positions
// [n0, n0 + cols), as panels of kCols positions: position j of row k at
// panels[((j / kCols) * kc + k) * kCols + j % kCols]. The last panel's padding is zero.
void pack_block(const float* in, const WindowGeometry& g, int64_t k0, int64_t kc, int64_t n0, int64_t cols,
                float* panels) {
  const int64_t KW = g.kernel[1], taps = g.kernel[0] * KW, in_size = g.in_size();
  const int64_t col_panels = (cols + kCols - 1) / kCols;
  thread_local std::vector<float> row_buffer;
  row_buffer.resize(static_cast<size_t>(kBlockCols));
  float* row = row_buffer.data();
  std::fill(row + cols, row + col_panels * kCols, 0.0f);
  for (int64_t k = 0; k < kc; ++k) {
    const int64_t r = k0 + k, tap = r % taps;
    gather_row(in + (r / taps) * in_size, g, tap / KW, tap % KW, n0, cols, row);
    for (int64_t p = 0; p < col_panels; ++p)
      std::memcpy(panels + (p * kc + k) * kCols, row + p * kCols, kCols * sizeof(float));
  }
}

// Output channels [m_begin, m_end) of one image for the positions of one column tile, from
// its packed blocks: block_at(k0) is where the block of rows k0.. starts. `ep` (this
// image's, or null) is applied with the last K block.
template <class BlockAt>
void multiply_tile(const float* w, int64_t K, const float* bias, int64_t m_begin, int64_t m_end, int64_t n0,
                   int64_t cols, int64_t N, float* out, const ConvEpilogue* ep, BlockAt block_at) {
#if defined(ONNXQ_GEMM_AVX512)
  const int64_t col_panels = (cols + kCols - 1) / kCols;
  for (int64_t k0 = 0; k0 < K; k0 += kBlockK) {
    const int64_t kc = std::min(kBlockK, K - k0);
    const float* panels = block_at(k0);
    const bool last = k0 + kc == K;
    for (int64_t m = m_begin; m < m_end; m += kRows) {
      const int rows = static_cast<int>(std::min<int64_t>(kRows, m_end - m));
      for (int64_t p = 0; p < col_panels; ++p) {
        const int64_t at = m * N + n0 + p * kCols;
        ConvEpilogue tile_ep;
        if (ep && last) {
          tile_ep = *ep;
          if (ep->scale) tile_ep.scale = ep->scale + m, tile_ep.shift = ep->shift + m;
          if (ep->residual) tile_ep.residual = ep->residual + at;
        }
        conv_packed_detail::micro_kernel_avx512(rows, static_cast<int>(std::min<int64_t>(kCols, cols - p * kCols)),
                                                kc, w + m * K + k0, K, panels + p * kc * kCols, out + at, N,
                                                bias ? bias + m : nullptr, k0 > 0, ep && last ? &tile_ep : nullptr);
      }
    }
  }
#else
  (void)w, (void)K, (void)bias, (void)m_begin, (void)m_end, (void)n0, (void)cols, (void)N, (void)out, (void)ep,
      (void)block_at;
#endif
}

}  // namespace

void apply_conv_epilogue(const ConvEpilogue& ep, int64_t m_begin, int64_t m_end, int64_t n, float* y, int64_t ldy) {
  // One plain loop per operation over a row (still in L1), so each vectorizes; every element
  // gets the same operations in the same order as in one loop.
  const float lo = ep.lo, hi = ep.hi;
  for (int64_t m = m_begin; m < m_end; ++m) {
    float* __restrict row = y + m * ldy;
    if (ep.scale) {
      const float a = ep.scale[m], b = ep.shift[m];
      for (int64_t i = 0; i < n; ++i) row[i] = row[i] * a + b;
    }
    if (ep.residual) {
      const float* __restrict res = ep.residual + m * ldy;
      for (int64_t i = 0; i < n; ++i) row[i] = row[i] + res[i];
    }
    if (ep.clip)
      for (int64_t i = 0; i < n; ++i) {
        const float v = row[i] < lo ? lo : row[i];
        row[i] = hi < v ? hi : v;
      }
  }
}

bool conv2d_packed_available() {
#if defined(ONNXQ_GEMM_AVX512)
  static const bool avx512 = __builtin_cpu_supports("avx512f");
  return avx512;
#else
  return false;
#endif
}

void conv2d_packed(const ConvShape& s, const float* x, const float* w, const float* b, float* y, int threads,
                   const ConvEpilogue* ep) {
  if (!conv_packed_detail::conv2d_direct(s, x, w, b, y, threads, ep))
    conv_packed_detail::conv2d_im2col_blocks(s, x, w, b, y, threads, ep);
}

namespace conv_packed_detail {

bool conv2d_direct(const ConvShape& s, const float* x, const float* w, const float* b, float* y, int threads,
                   const ConvEpilogue* ep) {
#if defined(ONNXQ_GEMM_AVX512)
  PhaseGrid grid;
  // 1x1 convolutions gain nothing: their im2col blocks are plain (strided) copies.
  if (s.geometry.kernel_size() == 1 || !PhaseGrid::of(s, grid)) return false;
  const int64_t Cg = grid.channels, Mg = s.out_channels / s.group, K = Cg * grid.taps;
  const int64_t in_size = s.geometry.in_size(), N = s.geometry.out_size(), V = grid.V, Wq = grid.Wq, OW = grid.OW;
  // Each panel of 32 grid positions: which lanes are outputs, and where the first one goes.
  const int64_t panels = (V + kCols - 1) / kCols;
  std::vector<uint32_t> valid(static_cast<size_t>(panels));
  std::vector<int64_t> first(static_cast<size_t>(panels), -1);
  for (int64_t q = 0; q < V; ++q) {
    const int64_t p = q / kCols, ow = q % Wq;
    if (ow >= OW) continue;
    valid[static_cast<size_t>(p)] |= uint32_t{1} << (q % kCols);
    if (first[static_cast<size_t>(p)] < 0) first[static_cast<size_t>(p)] = (q / Wq) * OW + ow;
  }
  // The phases, with slack for the last panel's lanes past the grid (read, dropped).
  // Workers see their own thread_local, so they get the calling thread's by pointer.
  thread_local std::vector<float> padded;
  padded.assign(static_cast<size_t>(grid.floats(kCols + s.geometry.kernel[1])), 0.0f);
  float* const pad = padded.data();
  const int64_t* const offsets = grid.offsets.data();

  constexpr int64_t kTilePanels = kBlockCols / kCols;
  const int64_t col_tiles = (panels + kTilePanels - 1) / kTilePanels;
  const int64_t row_panels = (Mg + kRows - 1) / kRows;
  // Many small tasks (one output tile each is bit-identical however they are split): with
  // few, one thread idles at the end of each convolution.
  const int64_t row_chunks = std::min(row_panels, (16 * std::max(threads, 1) + col_tiles - 1) / col_tiles);
  const int64_t panels_per_chunk = (row_panels + row_chunks - 1) / row_chunks;
  for (int64_t image = 0; image < s.batch * s.group; ++image) {
    const int64_t grp = image % s.group, n = image / s.group;
    const float* in = x + (n * s.in_channels + grp * Cg) * in_size;
    const int64_t first_channel = n * s.out_channels + grp * Mg;
    float* out = y + first_channel * N;
    const float* wg = w + grp * Mg * K;
    const float* bias = b ? b + grp * Mg : nullptr;
    grid.fill(s, in, pad, threads);
    parallel_for(col_tiles * row_chunks, threads, [&](int64_t task) {
      const int64_t m_begin = (task / col_tiles) * panels_per_chunk * kRows;
      const int64_t m_end = std::min(Mg, m_begin + panels_per_chunk * kRows);
      const int64_t p_begin = (task % col_tiles) * kTilePanels, p_end = std::min(panels, p_begin + kTilePanels);
      for (int64_t m = m_begin; m < m_end; m += kRows) {
        const int rows = static_cast<int>(std::min<int64_t>(kRows, m_end - m));
        for (int64_t p = p_begin; p < p_end; ++p) {
          const size_t pi = static_cast<size_t>(p);
          if (!valid[pi]) continue;
          const int64_t at = m * N + first[pi];
          ConvEpilogue tile_ep;
          if (ep) {
            tile_ep = *ep;
            if (ep->scale) tile_ep.scale = ep->scale + grp * Mg + m, tile_ep.shift = ep->shift + grp * Mg + m;
            if (ep->residual) tile_ep.residual = ep->residual + first_channel * N + at;
          }
          micro_kernel_direct_avx512(rows, K, wg + m * K, K, pad + p * kCols, offsets, valid[pi], out + at, N,
                                     bias ? bias + m : nullptr, ep ? &tile_ep : nullptr);
        }
      }
    });
  }
  return true;
#else
  (void)s, (void)x, (void)w, (void)b, (void)y, (void)threads, (void)ep;
  return false;
#endif
}

void conv2d_im2col_blocks(const ConvShape& s, const float* x, const float* w, const float* b, float* y, int threads,
                          const ConvEpilogue* ep) {
  const WindowGeometry& g = s.geometry;
  const int64_t taps = g.kernel_size(), in_size = g.in_size(), N = g.out_size();
  const int64_t Cg = s.in_channels / s.group, Mg = s.out_channels / s.group, K = Cg * taps;
  const int64_t images = s.batch * s.group;
  const int64_t col_tiles = (N + kBlockCols - 1) / kBlockCols;
  const int64_t row_panels = (Mg + kRows - 1) / kRows;
  const int64_t want = 4 * std::max(threads, 1);
  auto image_parts = [&](int64_t image) {
    const int64_t grp = image % s.group, n = image / s.group;
    const int64_t first = n * s.out_channels + grp * Mg;  // the image's first output channel
    ConvEpilogue image_ep;
    if (ep) {
      image_ep = *ep;
      if (ep->scale) image_ep.scale = ep->scale + grp * Mg, image_ep.shift = ep->shift + grp * Mg;
      if (ep->residual) image_ep.residual = ep->residual + first * N;
    }
    return std::tuple{x + (n * s.in_channels + grp * Cg) * in_size, w + grp * Mg * K, y + first * N,
                      b ? b + grp * Mg : nullptr, image_ep};
  };

  // Plenty of column tiles: each task packs its own block, in L2, and multiplies it.
  const int64_t all_panels = (N + kCols - 1) / kCols;
  const bool shared = images * col_tiles < want && row_panels > 1 &&
                      K * all_panels * kCols <= (int64_t{2} << 20);
  if (!shared) {
    parallel_for(images * col_tiles, threads, [&](int64_t task) {
      const auto [in, wg, out, bias, image_ep] = image_parts(task / col_tiles);
      const int64_t n0 = (task % col_tiles) * kBlockCols, cols = std::min(kBlockCols, N - n0);
      thread_local std::vector<float> block;
      block.resize(static_cast<size_t>(kBlockK * kBlockCols));
      multiply_tile(wg, K, bias, 0, Mg, n0, cols, N, out, ep ? &image_ep : nullptr, [&](int64_t k0) {
        pack_block(in, g, k0, std::min(kBlockK, K - k0), n0, cols, block.data());
        return block.data();
      });
    });
    return;
  }

  // Few output positions (deep layers): pack each image's whole matrix once, then split
  // the output channels across threads too.
  const int64_t k_blocks = (K + kBlockK - 1) / kBlockK;
  const int64_t row_chunks = std::min(row_panels, (want + col_tiles - 1) / col_tiles);
  const int64_t panels_per_chunk = (row_panels + row_chunks - 1) / row_chunks;
  thread_local std::vector<float> matrix;
  matrix.resize(static_cast<size_t>(K * all_panels * kCols));
  // Block k0 holds rows k0.. of every column, tile after tile. (Worker threads see their
  // own thread_local, so they get the calling thread's buffer by pointer.)
  float* const base = matrix.data();
  auto block_at = [&](int64_t k0, int64_t n0) { return base + k0 * all_panels * kCols + n0 * std::min(kBlockK, K - k0); };
  for (int64_t image = 0; image < images; ++image) {
    const auto [in, wg, out, bias, image_ep] = image_parts(image);
    parallel_for(k_blocks * col_tiles, threads, [&](int64_t task) {
      const int64_t k0 = (task / col_tiles) * kBlockK, n0 = (task % col_tiles) * kBlockCols;
      pack_block(in, g, k0, std::min(kBlockK, K - k0), n0, std::min(kBlockCols, N - n0), block_at(k0, n0));
    });
    parallel_for(row_chunks * col_tiles, threads, [&](int64_t task) {
      const int64_t m_begin = (task / col_tiles) * panels_per_chunk * kRows;
      const int64_t m_end = std::min(Mg, m_begin + panels_per_chunk * kRows);
      const int64_t n0 = (task % col_tiles) * kBlockCols;
      if (m_begin < m_end)
        multiply_tile(wg, K, bias, m_begin, m_end, n0, std::min(kBlockCols, N - n0), N, out,
                      ep ? &image_ep : nullptr, [&](int64_t k0) { return block_at(k0, n0); });
    });
  }
}

}  // namespace conv_packed_detail

}  // namespace onnxq::exec

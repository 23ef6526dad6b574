#include "exec/kernels/conv_channels.hpp"

#include <algorithm>

#include "core/parallel.hpp"
#include "exec/kernels/conv_phases.hpp"

namespace onnxq::exec {

using conv_channels_detail::kPositions;

namespace {
constexpr int64_t kBlockK = 256;
}

bool conv2d_channels_suits(const ConvShape& s) {
  PhaseGrid grid;
  // 1x1 kernels: too few products per output to pay for the scattered stores.
  if (s.group != 1 || s.out_channels % 32 != 0 || s.geometry.kernel_size() == 1 || !PhaseGrid::of(s, grid))
    return false;
  // The position path computes 32-lane panels of the grid: it wins when they are nearly full.
  const int64_t N = s.geometry.out_size(), lanes = (grid.V + 31) / 32 * 32;
  return lanes * 100 >= N * 105 && s.out_channels * N < (int64_t{1} << 31);  // int32 scatter indices
}

std::vector<float> pack_weights_by_channel(const float* w, int64_t M, int64_t K) {
  std::vector<float> packed(static_cast<size_t>((M + 31) / 32 * 32 * K));  // a last partial panel: zeros
  for (int64_t m = 0; m < M; ++m)
    for (int64_t k = 0; k < K; ++k) packed[static_cast<size_t>(((m / 32) * K + k) * 32 + m % 32)] = w[m * K + k];
  return packed;
}

void conv2d_channels(const ConvShape& s, const float* x, const float* packed, const float* b, float* y, int threads,
                     const ConvEpilogue* ep) {
#if defined(ONNXQ_GEMM_AVX512)
  PhaseGrid grid;
  PhaseGrid::of(s, grid);
  const int64_t K = grid.channels * grid.taps, M = s.out_channels, N = s.geometry.out_size();
  const int64_t OW = grid.OW, Wq = grid.Wq;
  std::vector<int64_t> q(static_cast<size_t>(N)), n(static_cast<size_t>(N));
  for (int64_t i = 0; i < N; ++i) {
    n[static_cast<size_t>(i)] = i;
    q[static_cast<size_t>(i)] = (i / OW) * Wq + i % OW;
  }
  // Workers see their own thread_local, so they get the calling thread's by pointer.
  thread_local std::vector<float> padded;
  padded.assign(static_cast<size_t>(grid.floats(0)), 0.0f);
  float* const pad = padded.data();
  const int64_t panels = M / 32, tiles = (N + kPositions - 1) / kPositions;
  // Enough tasks that two or more threads finish together; each output is one kernel call.
  const int64_t chunks = std::min(tiles, (16 * std::max(threads, 1) + panels - 1) / panels);
  const int64_t tiles_per_chunk = (tiles + chunks - 1) / chunks;
  for (int64_t image = 0; image < s.batch; ++image) {
    grid.fill(s, x + image * s.in_channels * s.geometry.in_size(), pad, threads);
    float* out = y + image * M * N;
    parallel_for(panels * chunks, threads, [&](int64_t task) {
      const int64_t p = task / chunks, t_begin = (task % chunks) * tiles_per_chunk;
      const int64_t t_end = std::min(tiles, t_begin + tiles_per_chunk);
      if (t_begin >= t_end) return;
      ConvEpilogue panel_ep;
      if (ep) {
        panel_ep = *ep;
        if (ep->scale) panel_ep.scale = ep->scale + p * 32, panel_ep.shift = ep->shift + p * 32;
        if (ep->residual) panel_ep.residual = ep->residual + (image * M + p * 32) * N;
      }
      // Taps in blocks whose slice of the weight panel (kBlockK x 32 floats) stays in L1
      // while every tile of the task passes over it.
      thread_local std::vector<float> partial;
      partial.resize(static_cast<size_t>((t_end - t_begin) * kPositions * 32));
      for (int64_t k0 = 0; k0 < K; k0 += kBlockK) {
        const int64_t kc = std::min(kBlockK, K - k0);
        for (int64_t t = t_begin; t < t_end; ++t) {
          const int64_t first = t * kPositions;
          const int rows = static_cast<int>(std::min<int64_t>(kPositions, N - first));
          conv_channels_detail::micro_kernel_avx512(
              rows, k0, kc, K, packed + p * K * 32, pad, grid.offsets.data(), q.data() + first, n.data() + first,
              partial.data() + (t - t_begin) * kPositions * 32, out + p * 32 * N, N, b ? b + p * 32 : nullptr,
              ep ? &panel_ep : nullptr);
        }
      }
    });
  }
#else
  (void)s, (void)x, (void)packed, (void)b, (void)y, (void)threads, (void)ep;
#endif
}

}  // namespace onnxq::exec

#include "exec/kernels/conv_phases.hpp"

#include <algorithm>
#include <cstring>

#include "core/parallel.hpp"
#include "exec/kernels/conv_packed.hpp"

namespace onnxq::exec {

bool PhaseGrid::of(const ConvShape& s, PhaseGrid& grid) {
  const WindowGeometry& g = s.geometry;
  if (g.rank() != 2 || g.dilations[0] != 1 || g.dilations[1] != 1) return false;
  const int64_t KH = g.kernel[0], KW = g.kernel[1], sh = g.strides[0], sw = g.strides[1];
  const int64_t Hp = g.in[0] + g.pad_begin[0] + g.pad_end[0], Wp = g.in[1] + g.pad_begin[1] + g.pad_end[1];
  if (Hp < KH || Wp < KW || g.out[0] != (Hp - KH) / sh + 1 || g.out[1] != (Wp - KW) / sw + 1) return false;
  grid.channels = s.in_channels / s.group;
  grid.taps = KH * KW;
  grid.Hq = (Hp + sh - 1) / sh;
  grid.Wq = (Wp + sw - 1) / sw;
  grid.plane = grid.Hq * grid.Wq;
  grid.phases = sh * sw;
  grid.OW = g.out[1];
  grid.V = (g.out[0] - 1) * grid.Wq + grid.OW;
  const int64_t K = grid.channels * grid.taps;
  grid.offsets.resize(static_cast<size_t>(K));
  for (int64_t k = 0; k < K; ++k) {
    const int64_t c = k / grid.taps, kh = (k % grid.taps) / KW, kw = k % KW;
    grid.offsets[static_cast<size_t>(k)] =
        (c * grid.phases + (kh % sh) * sw + kw % sw) * grid.plane + (kh / sh) * grid.Wq + kw / sw;
  }
  return true;
}

void PhaseGrid::fill(const ConvShape& s, const float* image, float* pad, int threads) const {
  const WindowGeometry& g = s.geometry;
  const int64_t H = g.in[0], W = g.in[1], sh = g.strides[0], sw = g.strides[1];
  const int64_t top = g.pad_begin[0], left = g.pad_begin[1], in_size = H * W;
  auto fill_channel = [&](int64_t c) {
    for (int64_t h = 0; h < H; ++h) {
      const float* src = image + c * in_size + h * W;
      const int64_t i = h + top;
      for (int64_t b = 0; b < sw; ++b) {
        // Phase columns jq with jq * sw + b - left in [0, W).
        const int64_t lo = std::max<int64_t>(0, (left - b + sw - 1) / sw);
        const int64_t hi = std::min(Wq, (W + left - b + sw - 1) / sw);
        if (hi <= lo) continue;
        const float* from = src + lo * sw + b - left;
        float* to = pad + (c * phases + (i % sh) * sw + b) * plane + (i / sh) * Wq + lo;
        if (sw == 1)
          std::memcpy(to, from, static_cast<size_t>(hi - lo) * sizeof(float));
#if defined(ONNXQ_GEMM_AVX512)
        else if (sw == 2 && conv2d_packed_available())
          conv_packed_detail::copy_stride2_avx512(from, hi - lo, to);
#endif
        else
          for (int64_t j = 0; j < hi - lo; ++j) to[j] = from[j * sw];
      }
    }
  };
  // A small image is copied faster than threads are handed the work.
  if (channels * in_size <= (int64_t{1} << 17))
    for (int64_t c = 0; c < channels; ++c) fill_channel(c);
  else
    parallel_for(channels, threads, fill_channel);
}

}  // namespace onnxq::exec

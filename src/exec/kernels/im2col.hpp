#pragma once

// im2col / col2im for N-d convolutions, templated on the element type so the float Conv
// and the integer ConvInteger/QLinearConv kernels share them.
//
// For one image of `channels` channels with spatial dims g.in, the column matrix has one
// row per (channel, kernel offset) in C order and one column per output position:
// [channels * g.kernel_size(), g.out_size()], row-major. A convolution is then
// W[M, channels * K] x col. Taps that fall into padding read `pad_value` (the zero point
// for quantized inputs).

#include <algorithm>
#include <cstdint>
#include <vector>

#include "core/parallel.hpp"
#include "exec/kernels/window.hpp"

namespace onnxq::exec {

namespace im2col_detail {

// Rows are independent, so any fixed chunking gives the same bytes.
constexpr int64_t kRowsPerChunk = 8;

// Input offset of a kernel tap along each axis: pos * stride - pad + k * dilation.
inline void kernel_offsets(const WindowGeometry& g, int64_t k, std::vector<int64_t>& ks) {
  for (size_t d = g.rank(); d-- > 0;) {
    ks[d] = k % g.kernel[d];
    k /= g.kernel[d];
  }
}

template <class T>
void row_2d(const T* img, const WindowGeometry& g, int64_t kh, int64_t kw, T pad_value, T* dst) {
  const int64_t H = g.in[0], W = g.in[1], OH = g.out[0], OW = g.out[1];
  const int64_t sh = g.strides[0], sw = g.strides[1];
  const int64_t off_h = kh * g.dilations[0] - g.pad_begin[0], off_w = kw * g.dilations[1] - g.pad_begin[1];
  // Output columns whose tap lands inside [0, W): ow in [lo, hi).
  int64_t lo = off_w >= 0 ? 0 : (-off_w + sw - 1) / sw;
  int64_t hi = W - off_w <= 0 ? 0 : (W - off_w + sw - 1) / sw;
  lo = std::min(lo, OW);
  hi = std::clamp(hi, lo, OW);
  for (int64_t oh = 0; oh < OH; ++oh, dst += OW) {
    const int64_t ih = oh * sh + off_h;
    if (ih < 0 || ih >= H) {
      std::fill(dst, dst + OW, pad_value);
      continue;
    }
    const T* src = img + ih * W;
    std::fill(dst, dst + lo, pad_value);
    if (sw == 1)
      std::copy(src + lo + off_w, src + hi + off_w, dst + lo);
    else
      for (int64_t ow = lo; ow < hi; ++ow) dst[ow] = src[ow * sw + off_w];
    std::fill(dst + hi, dst + OW, pad_value);
  }
}

template <class T>
void row_nd(const T* img, const WindowGeometry& g, const std::vector<int64_t>& ks, T pad_value, T* dst) {
  const size_t n = g.rank();
  std::vector<int64_t> pos(n, 0);
  const int64_t total = g.out_size();
  for (int64_t o = 0; o < total; ++o) {
    int64_t offset = 0;
    bool inside = true;
    for (size_t d = 0; d < n; ++d) {
      const int64_t i = pos[d] * g.strides[d] - g.pad_begin[d] + ks[d] * g.dilations[d];
      inside = inside && i >= 0 && i < g.in[d];
      offset = offset * g.in[d] + i;
    }
    dst[o] = inside ? img[offset] : pad_value;
    for (size_t d = n; d-- > 0;) {
      if (++pos[d] < g.out[d]) break;
      pos[d] = 0;
    }
  }
}

// col2im_add's 2-D case for one kernel tap: out positions in output order, each added
// into the image position it reads (taps in padding dropped).
template <class T>
void add_row_2d(const T* src, const WindowGeometry& g, int64_t kh, int64_t kw, T* img) {
  const int64_t H = g.in[0], W = g.in[1], OH = g.out[0], OW = g.out[1];
  const int64_t sh = g.strides[0], sw = g.strides[1];
  const int64_t off_h = kh * g.dilations[0] - g.pad_begin[0], off_w = kw * g.dilations[1] - g.pad_begin[1];
  int64_t lo = off_w >= 0 ? 0 : (-off_w + sw - 1) / sw;
  int64_t hi = W - off_w <= 0 ? 0 : (W - off_w + sw - 1) / sw;
  lo = std::min(lo, OW);
  hi = std::clamp(hi, lo, OW);
  for (int64_t oh = 0; oh < OH; ++oh, src += OW) {
    const int64_t ih = oh * sh + off_h;
    if (ih < 0 || ih >= H) continue;
    T* dst = img + ih * W + off_w;
    for (int64_t ow = lo; ow < hi; ++ow) dst[ow * sw] += src[ow];
  }
}

}  // namespace im2col_detail

template <class T>
void im2col(const T* image, int64_t channels, const WindowGeometry& g, T pad_value, T* col, int threads) {
  using namespace im2col_detail;
  const int64_t K = g.kernel_size(), in_size = g.in_size(), out_size = g.out_size();
  const int64_t rows = channels * K;
  parallel_for((rows + kRowsPerChunk - 1) / kRowsPerChunk, threads, [&](int64_t chunk) {
    std::vector<int64_t> ks(g.rank());
    for (int64_t r = chunk * kRowsPerChunk; r < std::min(rows, (chunk + 1) * kRowsPerChunk); ++r) {
      const T* img = image + (r / K) * in_size;
      T* dst = col + r * out_size;
      if (g.rank() == 2)
        row_2d(img, g, (r % K) / g.kernel[1], (r % K) % g.kernel[1], pad_value, dst);
      else {
        kernel_offsets(g, r % K, ks);
        row_nd(img, g, ks, pad_value, dst);
      }
    }
  });
}

// The adjoint of im2col: adds every column entry into the image position it was read from
// (taps in padding are dropped). Each channel's rows are summed in row order by one
// thread, so results do not depend on `threads`.
template <class T>
void col2im_add(const T* col, int64_t channels, const WindowGeometry& g, T* image, int threads) {
  const int64_t K = g.kernel_size(), in_size = g.in_size(), out_size = g.out_size();
  const size_t n = g.rank();
  parallel_for(channels, threads, [&](int64_t c) {
    std::vector<int64_t> ks(n), pos(n);
    T* img = image + c * in_size;
    for (int64_t k = 0; k < K; ++k) {
      const T* src = col + (c * K + k) * out_size;
      if (n == 2) {  // the same additions in the same order, a row at a time
        im2col_detail::add_row_2d(src, g, k / g.kernel[1], k % g.kernel[1], img);
        continue;
      }
      im2col_detail::kernel_offsets(g, k, ks);
      std::fill(pos.begin(), pos.end(), 0);
      for (int64_t o = 0; o < out_size; ++o) {
        int64_t offset = 0;
        bool inside = true;
        for (size_t d = 0; d < n; ++d) {
          const int64_t i = pos[d] * g.strides[d] - g.pad_begin[d] + ks[d] * g.dilations[d];
          inside = inside && i >= 0 && i < g.in[d];
          offset = offset * g.in[d] + i;
        }
        if (inside) img[offset] += src[o];
        for (size_t d = n; d-- > 0;) {
          if (++pos[d] < g.out[d]) break;
          pos[d] = 0;
        }
      }
    }
  });
}

}  // namespace onnxq::exec

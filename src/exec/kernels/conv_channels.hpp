#pragma once

// A 2-D float convolution vectorized over output channels instead of output positions, for
// deep layers whose few positions (7x7 = 49) fill 32-lane position panels badly: a tile is
// 32 output channels (two AVX-512 vectors of weights, packed once) by up to 7 positions
// (broadcast from the image's padded phases, conv_phases.hpp), stored with scatters. Every
// output is bias + sum over k in index order, one FMA at a time, as on the other paths, so
// the bits are the same.

#include <cstdint>
#include <vector>

#include "exec/kernels/conv_packed.hpp"

namespace onnxq::exec {

// Whether conv2d_channels runs `s` (no groups, output channels a multiple of 32, no
// dilation, more than one tap) and pays: the position path would waste a twentieth of its
// lanes or more (28x28 outputs and smaller).
bool conv2d_channels_suits(const ConvShape& s);

// W [M, K] as panels of 32 output channels, k-major: W[32p + j, k] at (p * K + k) * 32 + j
// (a last partial panel is padded with zeros).
std::vector<float> pack_weights_by_channel(const float* w, int64_t M, int64_t K);

// y = conv(x, w) + b with `packed` from pack_weights_by_channel, and `ep` as
// conv2d_packed applies it. Only when conv2d_channels_suits(s) and conv2d_packed_available().
void conv2d_channels(const ConvShape& s, const float* x, const float* packed, const float* b, float* y, int threads,
                     const ConvEpilogue* ep = nullptr);

namespace conv_channels_detail {

inline constexpr int kPositions = 7;

// For rows <= kPositions positions whose tap k is at x[offsets[k] + q[r]]: y[j * N + n[r]] =
// epilogue(bias[j] + sum over k of packed[k * 32 + j] * x[...]) for the 32 channels j of
// one panel; `ep` is this panel's (scale/shift at its first channel, residual laid out as y).
// Runs taps [k0, k0 + kc) of K: the sums so far wait in `partial` (rows x 32) between
// calls, and y is written by the call with the last taps.
void micro_kernel_avx512(int rows, int64_t k0, int64_t kc, int64_t K, const float* packed, const float* x,
                         const int64_t* offsets, const int64_t* q, const int64_t* n, float* partial, float* y,
                         int64_t N, const float* bias, const ConvEpilogue* ep);

}  // namespace conv_channels_detail

}  // namespace onnxq::exec

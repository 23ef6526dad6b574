#pragma once

// The vectorized interior of a depthwise 2-D float convolution plane (one input and one
// output channel per group): output columns [lo, lo + run) of every output row, where
// every tap of the row lies inside the input. Edge columns stay with conv.cpp.

#include <cstdint>

namespace onnxq::exec::depthwise_detail {

struct Interior {
  const float* in;  // one input plane, H x W
  const float* w;   // KH x KW taps
  float bias;
  float* out;  // one output plane, OH x OW
  int64_t H, W, OH, OW, KH, KW, sh, sw, dh, dw, ph, pw, lo, run;
};

// Each output: the taps in (kh, kw) order, fused multiply-adds from 0, then the bias.
void interior_avx512(const Interior& t);

}  // namespace onnxq::exec::depthwise_detail

#pragma once

// A convolution's input as the direct convolution paths read it: zero-padded and split into
// stride phases (phase (a, b) holds padded rows a, a + sh, ... and columns b, b + sw, ...),
// each Hq x Wq, so a strided convolution reads each phase as a stride-1 one. Output
// (oh, ow) is grid position q = oh * Wq + ow, and tap k = (c, kh, kw) of it is at
// offsets[k] + q; grid columns ow >= OW are not outputs.

#include <cstdint>
#include <vector>

#include "exec/kernels/conv_shape.hpp"

namespace onnxq::exec {

struct PhaseGrid {
  int64_t channels = 0, taps = 0;  // per group
  int64_t Hq = 0, Wq = 0, plane = 0, phases = 0;
  int64_t OW = 0;
  int64_t V = 0;  // grid positions up to the last output, (OH - 1) * Wq + OW
  std::vector<int64_t> offsets;  // per tap k = (c * KH + kh) * KW + kw

  // The grid of `s`, or false for a dilated convolution (or a malformed geometry).
  static bool of(const ConvShape& s, PhaseGrid& grid);

  // Floats of one group's phases, with `slack` zeros after them for reads past the grid.
  int64_t floats(int64_t slack) const { return channels * phases * plane + slack; }
  // Fills `pad` (floats(slack) long, zeroed by the caller) from one group's channels of an
  // image, one chunk per channel.
  void fill(const ConvShape& s, const float* image, float* pad, int threads) const;
};

}  // namespace onnxq::exec

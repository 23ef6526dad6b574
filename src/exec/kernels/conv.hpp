#pragma once

// The Conv kernel's entry for the executor's fused steps: a convolution followed by the
// nodes it absorbed (inference BatchNormalization, a residual Add, Relu).

#include <functional>
#include <memory>
#include <vector>

#include "exec/kernel.hpp"

namespace onnxq::exec {

struct ConvChain {
  std::vector<float> scale, shift;  // BatchNormalization as y * scale + shift; empty: none
  bool residual = false;            // the step's input 3 is added to y
  bool clip = false;                // then min(max(y, lo), hi): a Relu (0, +inf) or a float Clip
  float lo = 0.0f, hi = 0.0f;
  // W is an initializer: deep layers may pack it once, on first use, for conv2d_channels.
  bool constant_weights = false;
  // Runs the absorbed nodes' own kernels one after the other, for inputs the fused
  // kernel does not take (not float, a residual that broadcasts).
  std::function<void(KernelIO&)> unfused;
};

// Inputs: X, W, B (absent: undefined), residual (when chain.residual); output: the last
// absorbed node's. Bit-identical to running the nodes one by one.
std::unique_ptr<OpKernel> make_fused_conv(const NodeInfo& conv, ConvChain chain);

}  // namespace onnxq::exec

#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "onnxq/model.hpp"
#include "onnxq/quantize_static.hpp"

namespace onnxq {

// Bias correction (Nagel et al., 2019, "Data-Free Quantization Through Weight Equalization and
// Bias Correction", empirical variant): rounding a weight W to Ŵ shifts the mean of output
// channel c by Σ (W − Ŵ)[c, i] · E[x_i], where x_i is the input value weight element i
// multiplies. Adding that shift to the bias cancels it. E[x_i] is measured on the calibration
// data at every output position, padding included (a 3x3 kernel's top row over a feature map one
// row high only ever sees zeros), so the correction is the exact mean output error of this
// layer's weight rounding. Each layer is corrected for its own weights only: measuring the output
// shift of the quantized model instead would count every upstream layer's shift again.
//
// Layers: Conv with 1 or 2 spatial dims, Gemm (transA = 0), and MatMul with a 2-D weight whose
// only reader is an Add of a constant bias (how PyTorch exports a Linear layer), each with a
// constant float weight, chosen by the quantizer's op-type and node filters.

// Per selected layer (by node name): the sum of every weight element's input over all output
// positions of all samples, laid out as the weight without its output axis, and the count.
struct LayerInputSums {
  std::vector<double> sums;
  int64_t positions = 0;
};

class BiasCorrectionObserver {
 public:
  BiasCorrectionObserver(const Model& model, const StaticQuantOptions& options);

  // The activations to observe: every selected layer's input.
  std::vector<std::string> inputs() const;
  // Folds one produced tensor in (ignores names it does not need).
  void observe(const std::string& name, const Tensor& value);

  struct Layer {
    enum class Kind { kConv, kGemm, kMatMul } kind = Kind::kConv;
    int node = -1;       // index in the main graph
    int bias_node = -1;  // the node holding the bias (the Add after a MatMul), and its input slot
    int bias_slot = 2;
    int64_t channels = 0;        // input channels (Conv) or K (Gemm)
    std::vector<int64_t> kernel, strides, dilations, pads;  // Conv: per spatial dim; pads begin..., end...
    std::string auto_pad;
    LayerInputSums sums;
  };
  const std::map<std::string, std::vector<Layer>>& layers() const { return by_input_; }

 private:
  std::map<std::string, std::vector<Layer>> by_input_;
  int threads_ = 1;
};

struct BiasCorrectionResult {
  int64_t layers = 0;          // biases shifted
  double max_abs_shift = 0.0;  // the largest shift of any output channel
};

// Shifts the biases of the observed layers (adding a bias where there is none; a bias other
// nodes also read is copied first). Ŵ is what quantize_static will make of W with `options`.
BiasCorrectionResult apply_bias_correction(Model& model, const BiasCorrectionObserver& observed,
                                           const StaticQuantOptions& options);

}  // namespace onnxq

#pragma once

#include <cstdint>
#include <string>

#include "onnxq/model.hpp"

namespace onnxq::test {

// A ResNet-18-style CNN at opset 17: 7x7 stem, max pool, four stages of two basic blocks
// (3x3 Conv, BatchNormalization, Relu, residual Add, 1x1 strided shortcut), global average
// pool, Gemm classifier. BatchNormalization is kept as its own node, as a training-mode
// export leaves it, so preprocess has something to fold.
struct CnnConfig {
  int64_t image = 224;  // input [1, 3, image, image]
  int64_t width = 64;   // channels of the first stage; doubled per stage
  int64_t classes = 1000;
  uint32_t seed = 1;
};

// Input "image" float [1, 3, H, W], output "logits" float [1, classes].
Model build_cnn(const CnnConfig& config);

class GraphBuilder;
// A CNN's head: GlobalAveragePool, Flatten and a Gemm classifier from `channels` features to
// "logits" [1, classes], weights uniform in ±1/√channels from the two seeds.
void add_classifier_head(GraphBuilder& g, const std::string& x, int64_t channels, int64_t classes, uint32_t weight_seed,
                         uint32_t bias_seed);

}  // namespace onnxq::test

#pragma once

#include <cstdint>

#include "onnxq/model.hpp"

namespace onnxq::test {

// A MobileNetV2-style CNN at opset 17: 3x3 stem, seventeen inverted residual blocks (1x1
// expansion, 3x3 depthwise, 1x1 projection, each Conv + BatchNormalization, Clip(0, 6)
// between, residual Add where shapes allow), 1x1 head to 1280 channels, global average pool,
// Gemm classifier. With `v3_style`, activations are HardSwish and every expanded block has a
// squeeze-excitation branch (GlobalAveragePool, 1x1 Conv, Relu, 1x1 Conv, HardSigmoid, Mul),
// as MobileNetV3 and PaddleOCR's backbones have.
struct MobileNetConfig {
  int64_t image = 224;  // input [1, 3, image, image]
  int64_t classes = 1000;
  bool v3_style = false;
  uint32_t seed = 1;
};

// Input "image" float [1, 3, H, W], output "logits" float [1, classes].
Model build_mobilenet(const MobileNetConfig& config);

}  // namespace onnxq::test

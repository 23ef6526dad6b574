#pragma once

#include "onnxq/quantize_static.hpp"
#include "onnxq/weight_quant.hpp"

namespace onnxq {

// How quantize_static quantizes a constant weight: per channel along `axis` when per-channel is
// on and the op has a channel axis, else per tensor of the weight type.
inline WeightQuantSpec static_weight_spec(const StaticQuantOptions& o, int axis) {
  WeightQuantSpec spec;
  spec.reduce_range = o.reduce_range;
  if (o.per_channel && axis >= 0) {
    // ONNX Runtime stores per-channel weights as int8 whatever the weight type: QLinearConv takes
    // one zero point for all channels, which only symmetric int8 guarantees.
    spec.type = DataType::kInt8;
    spec.symmetric = o.symmetric_weights.value_or(true);
    spec.axis = axis;
  } else {
    spec.type = o.weight_type;
    spec.symmetric = o.symmetric_weights.value_or(dtype_is_signed(o.weight_type));
  }
  return spec;
}

}  // namespace onnxq

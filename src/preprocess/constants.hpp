#pragma once

#include <onnx/onnx_pb.h>

#include <optional>
#include <string>

#include "onnxq/model.hpp"

namespace onnxq::preprocessing {

// The value of a main-graph initializer (that is not also a graph input, which a user
// could override), or nullopt.
std::optional<Tensor> constant_value(const Model& model, const std::string& name);

// The rank of a value from the graph's inputs, outputs, value_info or initializers, or -1.
int64_t known_rank(const Model& model, const std::string& name);

// The full static shape of a value, or nullopt when any dimension is unknown.
std::optional<Shape> static_shape(const Model& model, const std::string& name);

// A fresh value name based on `base` that nothing in the graph uses yet.
std::string unique_name(const onnx::GraphProto& graph, const std::string& base);

}  // namespace onnxq::preprocessing

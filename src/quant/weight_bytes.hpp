#pragma once

#include <map>
#include <string>

#include "onnxq/model.hpp"

namespace onnxq {

// Bytes of weights (initializers and Constant-node tensors, all graphs) by element type name.
std::map<std::string, uint64_t> weight_bytes_by_type(const Model& model);

}  // namespace onnxq

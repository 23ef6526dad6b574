#pragma once

#include <string>

#include "onnxq/model.hpp"

namespace onnxq::preprocessing {

// Rewrites the main graph's value_info: ONNX shape inference where libonnx knows the
// opsets, then, when every graph input has a static shape, the executor fills in what is
// still missing (newer opsets, com.microsoft ops) by running the model twice on made-up
// inputs; dimensions that differ between the runs are left unknown. Returns how many
// intermediate values have a type; `warning` (if given) says why a step was skipped.
int64_t infer_value_types(Model& model, int threads, std::string* warning);

}  // namespace onnxq::preprocessing

#pragma once

#include <onnx/onnx_pb.h>

#include <map>
#include <memory>
#include <set>
#include <string>

#include "onnxq/calibration.hpp"

namespace onnxq::calib {

// Tensors holding the same values as another, reordered or reshaped (outputs of Reshape,
// Flatten, Squeeze, Unsqueeze, Transpose, Identity): every statistic a calibrator keeps is a
// function of the multiset of values, so observing both counts the same values twice. Maps
// each such tensor in `wanted` to a tensor in `wanted` it copies (through chains of such ops,
// main graph only).
std::map<std::string, std::string> same_value_aliases(const onnx::GraphProto& graph,
                                                      const std::set<std::string>& wanted);

// A calibrator that is fed only the tensors that are no alias and reports each alias with the
// range and saved state of the tensor it copies, as if it had been observed too.
std::unique_ptr<Calibrator> with_aliases(std::unique_ptr<Calibrator> inner,
                                         std::map<std::string, std::string> aliases);

}  // namespace onnxq::calib

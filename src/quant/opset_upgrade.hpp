#pragma once

#include <cstdint>
#include <string>

#include "onnxq/model.hpp"

namespace onnxq {

// Makes the model import `domain` at `version` or newer. A default-domain upgrade is a plain
// re-label when no op in the model changed between the two versions, else libonnx's version
// converter runs (up to opset 17). From 17 to 21, which libonnx does not know, ops whose changes
// keep their meaning are re-labelled and Reduce* axes, Split and GridSample modes are rewritten;
// opset 19 and up raise the IR version to match (21: IR 10). kUnsupported naming the first op
// that blocks it.
void raise_opset(Model& model, const std::string& domain, int64_t version);

}  // namespace onnxq

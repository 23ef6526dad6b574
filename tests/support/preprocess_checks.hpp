#pragma once

#include <cstdint>
#include <string>

#include "onnxq/executor.hpp"
#include "onnxq/model.hpp"
#include "onnxq/preprocess.hpp"

namespace onnxq::test {

// The changes the named pass reported, or -1 when it did not run.
int64_t pass_changes(const PreprocessReport& report, const std::string& pass);

// Largest |a - b| over the range of b, for each output of the two models run on `inputs` in
// onnxq's executor; the worst over the outputs (outputs of different shapes fail the test).
double worst_relative_diff(const Model& a, const Model& b, const NamedTensors& inputs);

}  // namespace onnxq::test

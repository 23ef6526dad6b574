#pragma once

#include <onnx/onnx_pb.h>

#include <string>
#include <vector>

namespace onnxq {

// Which input of an op is a weight ewq may replace, and its channel axis (the output channel:
// one codebook per index along it with --granularity channel).
struct EwqWeightRule {
  std::string op_type;
  int input = 1;
  // The channel axis for a weight of `rank` read by `node`; -1: this node's weight is not one
  // (a Gather table must be 2-D: the indices select rows of an embedding).
  int (*axis)(const onnx::NodeProto& node, int64_t rank) = nullptr;
};

const std::vector<EwqWeightRule>& ewq_weight_rules();
const EwqWeightRule* find_ewq_weight_rule(const onnx::NodeProto& node);

}  // namespace onnxq

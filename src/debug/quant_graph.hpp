#pragma once

#include <onnx/onnx_pb.h>

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "onnxq/model.hpp"

namespace onnxq::debug {

// The main graph of a model seen for matching: constants (initializers and Constant nodes, as
// PaddlePaddle exports keep weights), who produces and who reads each tensor.
class GraphIndex {
 public:
  explicit GraphIndex(const Model& model);

  const Model& model() const { return model_; }
  const onnx::GraphProto& graph() const { return model_.graph(); }
  const onnx::NodeProto& node(int i) const { return model_.graph().node(i); }

  // The constant's proto, or nullptr for anything computed or a graph input.
  const onnx::TensorProto* constant(const std::string& name) const;
  // Its value; kInput naming it when it is not a constant.
  Tensor value(const std::string& name) const;
  // Node index producing `name`, or -1.
  int producer(const std::string& name) const;
  // (node index, input slot) of every reader of `name`, in graph order.
  const std::vector<std::pair<int, int>>& consumers(const std::string& name) const;
  // Node index by name, or -1 (unnamed nodes are not indexed).
  int node_named(const std::string& name) const;

 private:
  const Model& model_;
  std::map<std::string, const onnx::TensorProto*> constants_;
  std::map<std::string, int> producer_, by_name_;
  std::map<std::string, std::vector<std::pair<int, int>>> consumers_;
};

}  // namespace onnxq::debug

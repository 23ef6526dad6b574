#pragma once

#include <onnx/onnx_pb.h>

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "onnxq/model.hpp"

namespace onnxq::debug {

// A model's graph seen for matching: constants (initializers and Constant nodes, as
// PaddlePaddle exports keep weights), who produces and who reads each tensor. With `subgraphs`,
// the nodes and constants of If/Loop/Scan bodies are indexed too, depth first after the node
// holding them (onnxq's names are unique across the whole model, so one name space serves).
class GraphIndex {
 public:
  explicit GraphIndex(const Model& model, bool subgraphs = false);

  const Model& model() const { return model_; }
  int node_count() const { return static_cast<int>(nodes_.size()); }
  const onnx::NodeProto& node(int i) const { return *nodes_[static_cast<size_t>(i)]; }

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
  void add(const onnx::GraphProto& graph, bool subgraphs);

  const Model& model_;
  std::vector<const onnx::NodeProto*> nodes_;
  std::map<std::string, const onnx::TensorProto*> constants_;
  std::map<std::string, int> producer_, by_name_;
  std::map<std::string, std::vector<std::pair<int, int>>> consumers_;
};

// An integer attribute of a node, or `fallback`.
int64_t int_attr(const onnx::NodeProto& node, const std::string& name, int64_t fallback);

}  // namespace onnxq::debug

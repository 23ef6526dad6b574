#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "onnxq/checker.hpp"
#include "onnxq/model.hpp"

namespace onnxq {

// A graph input or output: its element type name and dims ("N" for a symbolic dim, "?" for
// an unknown one); `has_shape` is false when the model gives no shape at all.
struct ValueSummary {
  std::string name;
  std::string type;
  std::vector<std::string> dims;
  bool has_shape = false;
};

struct WeightStats {
  int64_t tensors = 0;
  int64_t elements = 0;
  uint64_t bytes = 0;
};

// What `onnxq info` reports; every figure comes from the model proto and file sizes, no
// tensor data is read.
struct ModelInfo {
  std::string file;
  int64_t ir_version = 0;
  std::vector<std::pair<std::string, int64_t>> opsets;  // domain ("ai.onnx" for the default)
  std::string producer_name, producer_version, domain, graph_name;
  int64_t model_version = 0;
  std::vector<ValueSummary> inputs, outputs;  // inputs exclude initializers
  int64_t nodes = 0;            // main graph
  int64_t subgraph_nodes = 0;   // inside If/Loop/Scan bodies
  std::map<std::string, int64_t> op_types;  // over all graphs; "domain:Op" outside ai.onnx
  WeightStats initializers;                 // graph initializers, all graphs
  WeightStats constants;                    // tensors held by Constant nodes
  std::map<std::string, WeightStats> weights_by_type;  // both of the above
  int64_t parameters = 0;                              // elements of all weights
  uint64_t model_file_bytes = 0, external_data_bytes = 0;
  CheckResult check;  // the ONNX checker's verdict
  uint64_t total_bytes() const { return model_file_bytes + external_data_bytes; }
};

// `check` runs the ONNX checker too (the only part that reads more than the proto).
ModelInfo inspect_model(const Model& model, bool check = true);
nlohmann::json info_to_json(const ModelInfo& info);
std::string info_to_text(const ModelInfo& info);

}  // namespace onnxq

namespace onnxq {

// The CI size gate: throws kThreshold with one line naming the file when the model (with
// its external data) is larger than `max_bytes`.
void enforce_max_size(const ModelInfo& info, uint64_t max_bytes);

}  // namespace onnxq

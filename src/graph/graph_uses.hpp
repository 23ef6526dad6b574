#pragma once

#include <onnx/onnx_pb.h>

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace onnxq {

// Who reads what in a graph, subgraphs' outer-scope reads counted as reads by the node
// that owns the subgraph. Rebuilt after each rewrite; graphs are small next to weights.
struct GraphUses {
  explicit GraphUses(const onnx::GraphProto& graph);

  std::map<std::string, std::vector<int>> readers;  // value -> indices of reading nodes
  std::map<std::string, int> producer;              // value -> node index
  std::set<std::string> graph_outputs;

  size_t reader_count(const std::string& name) const {
    auto it = readers.find(name);
    return it == readers.end() ? 0 : it->second.size();
  }
};

// How many times each value is read: every input slot of every node, in subgraphs too (a
// node reading a value twice counts twice), plus, with `outputs_read`, every graph output.
std::map<std::string, int> read_counts(const onnx::GraphProto& graph, bool outputs_read);

// Every value a node reads, its subgraphs' outer-scope reads included.
std::vector<std::string> node_reads(const onnx::NodeProto& node);

// Renames every read of `from` to `to` in the graph and its subgraphs (not outputs);
// returns how many reads it renamed.
int64_t replace_uses(onnx::GraphProto& graph, const std::string& from, const std::string& to);

// False when a subgraph that reads `from` from outside defines a value named `to` itself, so
// that renaming would read the subgraph's own value instead.
bool can_replace_uses(const onnx::GraphProto& graph, const std::string& from, const std::string& to);
// Removes the nodes whose indices are in `doomed`, keeping the order of the rest.
void erase_nodes(onnx::GraphProto& graph, const std::set<int>& doomed);

}  // namespace onnxq

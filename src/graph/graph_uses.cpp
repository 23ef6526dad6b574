#include "graph/graph_uses.hpp"

#include <algorithm>
#include <unordered_set>

namespace onnxq {

namespace {

bool defines(const onnx::GraphProto& g, const std::string& name) {
  for (const auto& v : g.input())
    if (v.name() == name) return true;
  for (const auto& t : g.initializer())
    if (t.name() == name) return true;
  for (const auto& n : g.node())
    for (const auto& o : n.output())
      if (o == name) return true;
  return false;
}

void subgraph_free_reads(const onnx::GraphProto& g, std::vector<std::string>& out) {
  std::unordered_set<std::string> defined;
  for (const auto& v : g.input()) defined.insert(v.name());
  for (const auto& t : g.initializer()) defined.insert(t.name());
  for (const auto& n : g.node()) {
    for (const auto& r : node_reads(n))
      if (!defined.count(r)) out.push_back(r);
    for (const auto& o : n.output()) defined.insert(o);
  }
  for (const auto& v : g.output())
    if (!defined.count(v.name())) out.push_back(v.name());
}

}  // namespace

std::vector<std::string> node_reads(const onnx::NodeProto& node) {
  std::vector<std::string> reads;
  for (const auto& in : node.input())
    if (!in.empty()) reads.push_back(in);
  for (const auto& a : node.attribute()) {
    if (a.has_g()) subgraph_free_reads(a.g(), reads);
    for (const auto& g : a.graphs()) subgraph_free_reads(g, reads);
  }
  return reads;
}

GraphUses::GraphUses(const onnx::GraphProto& graph) {
  for (int i = 0; i < graph.node_size(); ++i) {
    std::set<std::string> once;
    for (const auto& r : node_reads(graph.node(i)))
      if (once.insert(r).second) readers[r].push_back(i);
    for (const auto& o : graph.node(i).output())
      if (!o.empty()) producer[o] = i;
  }
  for (const auto& v : graph.output()) graph_outputs.insert(v.name());
}

std::map<std::string, int> read_counts(const onnx::GraphProto& graph, bool outputs_read) {
  std::map<std::string, int> reads;
  auto walk = [&](auto& self, const onnx::GraphProto& g) -> void {
    for (const auto& n : g.node()) {
      for (const auto& i : n.input())
        if (!i.empty()) ++reads[i];
      for (const auto& a : n.attribute()) {
        if (a.has_g()) self(self, a.g());
        for (const auto& sub : a.graphs()) self(self, sub);
      }
    }
    if (outputs_read)
      for (const auto& o : g.output()) ++reads[o.name()];
  };
  walk(walk, graph);
  return reads;
}

int64_t replace_uses(onnx::GraphProto& graph, const std::string& from, const std::string& to) {
  int64_t renamed = 0;
  for (auto& node : *graph.mutable_node()) {
    for (auto& in : *node.mutable_input())
      if (in == from) {
        in = to;
        ++renamed;
      }
    for (auto& a : *node.mutable_attribute()) {
      // A subgraph that defines `from` itself shadows the outer name: leave it alone.
      auto rename = [&](onnx::GraphProto& g) {
        if (defines(g, from)) return;
        renamed += replace_uses(g, from, to);
        for (auto& v : *g.mutable_output())
          if (v.name() == from) {
            v.set_name(to);
            ++renamed;
          }
      };
      if (a.has_g()) rename(*a.mutable_g());
      for (auto& g : *a.mutable_graphs()) rename(g);
    }
  }
  return renamed;
}

bool can_replace_uses(const onnx::GraphProto& graph, const std::string& from, const std::string& to) {
  for (const auto& node : graph.node())
    for (const auto& a : node.attribute()) {
      auto safe = [&](const onnx::GraphProto& g) {
        if (defines(g, from)) return true;  // reads its own `from`: not renamed
        std::vector<std::string> reads;
        subgraph_free_reads(g, reads);
        if (std::find(reads.begin(), reads.end(), from) == reads.end()) return true;
        return !defines(g, to) && can_replace_uses(g, from, to);
      };
      if (a.has_g() && !safe(a.g())) return false;
      for (const auto& g : a.graphs())
        if (!safe(g)) return false;
    }
  return true;
}

void erase_nodes(onnx::GraphProto& graph, const std::set<int>& doomed) {
  if (doomed.empty()) return;
  auto* nodes = graph.mutable_node();
  int kept = 0;
  for (int i = 0; i < nodes->size(); ++i)
    if (!doomed.count(i)) nodes->SwapElements(i, kept++);
  nodes->DeleteSubrange(kept, nodes->size() - kept);
}

}  // namespace onnxq

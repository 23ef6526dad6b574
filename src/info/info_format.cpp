#include <cstdio>
#include <sstream>

#include "onnxq/byte_size.hpp"
#include "onnxq/model_info.hpp"

namespace onnxq {
namespace {

nlohmann::json value_json(const ValueSummary& v) {
  nlohmann::json j = {{"name", v.name}, {"type", v.type}};
  if (v.has_shape) {
    auto shape = nlohmann::json::array();
    for (const auto& d : v.dims) {
      const bool numeric = !d.empty() && d.find_first_not_of("0123456789") == std::string::npos;
      shape.push_back(numeric ? nlohmann::json(std::stoll(d)) : nlohmann::json(d));
    }
    j["shape"] = shape;
  } else {
    j["shape"] = nullptr;
  }
  return j;
}

nlohmann::json stats_json(const WeightStats& s) {
  return {{"tensors", s.tensors}, {"elements", s.elements}, {"bytes", s.bytes}};
}

std::string value_text(const ValueSummary& v) {
  std::string shape = "?";
  if (v.has_shape) {
    shape = "[";
    for (size_t i = 0; i < v.dims.size(); ++i) shape += (i ? ", " : "") + v.dims[i];
    shape += "]";
  }
  return v.name + "  " + v.type + " " + shape;
}

std::string with_thousands(uint64_t n) {
  std::string s = std::to_string(n);
  for (int i = static_cast<int>(s.size()) - 3; i > 0; i -= 3) s.insert(static_cast<size_t>(i), ",");
  return s;
}

}  // namespace

nlohmann::json info_to_json(const ModelInfo& info) {
  nlohmann::json j;
  j["file"] = info.file;
  j["ir_version"] = info.ir_version;
  j["opsets"] = nlohmann::json::object();
  for (const auto& [domain, version] : info.opsets) j["opsets"][domain] = version;
  j["producer"] = {{"name", info.producer_name}, {"version", info.producer_version}};
  j["domain"] = info.domain;
  j["model_version"] = info.model_version;
  j["graph_name"] = info.graph_name;
  j["inputs"] = nlohmann::json::array();
  for (const auto& v : info.inputs) j["inputs"].push_back(value_json(v));
  j["outputs"] = nlohmann::json::array();
  for (const auto& v : info.outputs) j["outputs"].push_back(value_json(v));
  j["nodes"] = {{"main_graph", info.nodes},
                {"subgraphs", info.subgraph_nodes},
                {"total", info.nodes + info.subgraph_nodes},
                {"by_op_type", info.op_types}};
  nlohmann::json by_type = nlohmann::json::object();
  for (const auto& [type, stats] : info.weights_by_type) by_type[type] = stats_json(stats);
  j["weights"] = {{"initializers", stats_json(info.initializers)},
                  {"constants", stats_json(info.constants)},
                  {"by_type", by_type}};
  j["parameters"] = info.parameters;
  static constexpr const char* kStatus[] = {"valid", "invalid", "unchecked"};
  j["check"] = {{"status", kStatus[static_cast<int>(info.check.status)]}, {"message", info.check.message}};
  j["size"] = {{"model_file", info.model_file_bytes},
               {"external_data", info.external_data_bytes},
               {"total", info.total_bytes()}};
  return j;
}

std::string info_to_text(const ModelInfo& info) {
  std::ostringstream out;
  out << "model       " << info.file << "\n";
  out << "ir_version  " << info.ir_version << "\n";
  out << "opsets      ";
  for (size_t i = 0; i < info.opsets.size(); ++i)
    out << (i ? ", " : "") << info.opsets[i].first << " " << info.opsets[i].second;
  out << "\n";
  out << "producer    " << (info.producer_name.empty() ? "-" : info.producer_name)
      << (info.producer_version.empty() ? "" : " " + info.producer_version) << "\n";
  out << "\ninputs\n";
  for (const auto& v : info.inputs) out << "  " << value_text(v) << "\n";
  out << "outputs\n";
  for (const auto& v : info.outputs) out << "  " << value_text(v) << "\n";

  out << "\nnodes       " << info.nodes + info.subgraph_nodes;
  if (info.subgraph_nodes) out << " (" << info.subgraph_nodes << " in subgraphs)";
  out << "\n";
  size_t width = 0;
  for (const auto& [op, n] : info.op_types) width = std::max(width, op.size());
  for (const auto& [op, n] : info.op_types) {
    out << "  " << op << std::string(width - op.size() + 2, ' ') << n << "\n";
  }

  out << "\nweights     " << info.initializers.tensors << " initializers, " << info.constants.tensors
      << " Constant-node tensors\n";
  char line[160];
  std::snprintf(line, sizeof line, "  %-10s %8s %16s %14s\n", "type", "tensors", "elements", "bytes");
  out << line;
  for (const auto& [type, s] : info.weights_by_type) {
    std::snprintf(line, sizeof line, "  %-10s %8lld %16s %14s\n", type.c_str(), static_cast<long long>(s.tensors),
                  with_thousands(static_cast<uint64_t>(s.elements)).c_str(), with_thousands(s.bytes).c_str());
    out << line;
  }
  out << "parameters  " << with_thousands(static_cast<uint64_t>(info.parameters)) << "\n";
  out << "\nsize        " << format_bytes(info.total_bytes()) << " (" << with_thousands(info.total_bytes())
      << " bytes";
  if (info.external_data_bytes)
    out << ": model file " << with_thousands(info.model_file_bytes) << ", external data "
        << with_thousands(info.external_data_bytes);
  out << ")\n";
  static constexpr const char* kStatus[] = {"valid", "INVALID: ", "unchecked: "};
  out << "checker     " << kStatus[static_cast<int>(info.check.status)] << info.check.message << "\n";
  return out.str();
}

}  // namespace onnxq

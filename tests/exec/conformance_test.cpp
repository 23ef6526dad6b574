// Runs ONNX's own backend test cases (Debian's libonnx-testdata) through the executor:
// every case whose ops all have kernels is one test, compared with the suite's tolerances.

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "exec/kernel.hpp"
#include "onnxq/executor.hpp"
#include "onnxq/float16.hpp"
#include "onnxq/model.hpp"
#include "onnxq/tensor_proto.hpp"
#include "support/temp_dir.hpp"

namespace onnxq {
namespace {

namespace fs = std::filesystem;

const fs::path kSuiteRoot = "/usr/include/onnx/backend/test/data";

struct Case {
  std::string name;  // "node_test_relu"
  fs::path dir;
};

std::map<std::string, int64_t> opsets_of(const onnx::ModelProto& model) {
  std::map<std::string, int64_t> opsets;
  for (const auto& o : model.opset_import()) opsets[o.domain() == "ai.onnx" ? "" : o.domain()] = o.version();
  return opsets;
}

bool is_tensor_io(const onnx::GraphProto& graph) {
  for (const auto& v : graph.input())
    if (!v.type().has_tensor_type()) return false;
  for (const auto& v : graph.output())
    if (!v.type().has_tensor_type()) return false;
  return true;
}

// The first op of `graph` (or its subgraphs) without a kernel, or "" when all have one.
std::string missing_op(const onnx::GraphProto& graph, const std::map<std::string, int64_t>& opsets) {
  for (const auto& node : graph.node()) {
    const std::string domain = node.domain() == "ai.onnx" ? "" : node.domain();
    auto it = opsets.find(domain);
    const int64_t opset = it == opsets.end() ? -1 : it->second;
    if (!exec::KernelRegistry::global().find(domain, node.op_type(), opset))
      return node.op_type() + "-" + std::to_string(opset);
    for (const auto& a : node.attribute()) {
      if (a.has_g()) {
        auto m = missing_op(a.g(), opsets);
        if (!m.empty()) return m;
      }
      for (const auto& g : a.graphs()) {
        auto m = missing_op(g, opsets);
        if (!m.empty()) return m;
      }
    }
  }
  return "";
}

onnx::ModelProto read_proto(const fs::path& path) {
  onnx::ModelProto model;
  std::ifstream in(path, std::ios::binary);
  model.ParseFromIstream(&in);
  return model;
}

struct Census {
  std::vector<Case> runnable;
  int total = 0;
  std::map<std::string, int> missing;  // op -> cases it blocks
};

const Census& census() {
  static const Census c = [] {
    Census c;
    if (!fs::exists(kSuiteRoot)) return c;
    std::vector<fs::path> dirs;
    for (const char* group : {"node", "pytorch-converted", "pytorch-operator", "simple"})
      if (fs::exists(kSuiteRoot / group))
        for (const auto& e : fs::directory_iterator(kSuiteRoot / group))
          if (fs::exists(e.path() / "model.onnx")) dirs.push_back(e.path());
    std::sort(dirs.begin(), dirs.end());
    for (const auto& dir : dirs) {
      ++c.total;
      auto model = read_proto(dir / "model.onnx");
      if (!is_tensor_io(model.graph())) {
        ++c.missing["(non-tensor inputs/outputs)"];
        continue;
      }
      const std::string missing = missing_op(model.graph(), opsets_of(model));
      if (!missing.empty()) {
        ++c.missing[missing];
        continue;
      }
      std::string name = dir.parent_path().filename().string() + "_" + dir.filename().string();
      for (char& ch : name)
        if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
      c.runnable.push_back({name, dir});
    }
    return c;
  }();
  return c;
}

std::map<std::string, std::string> skip_list() {
  std::map<std::string, std::string> skips;
  std::ifstream in(fs::path(ONNXQ_SOURCE_DIR) / "tests/exec/conformance_skips.txt");
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream s(line);
    std::string name, reason;
    s >> name;
    std::getline(s, reason);
    skips[name] = reason;
  }
  return skips;
}

Tensor read_tensor(const fs::path& path) {
  onnx::TensorProto proto;
  std::ifstream in(path, std::ios::binary);
  if (!proto.ParseFromIstream(&in)) fail(ExitCode::kInput, path.string() + ": not a TensorProto");
  return tensor_from_proto(proto);
}

double as_double(const Tensor& t, int64_t i) {
  switch (t.dtype()) {
    case DataType::kFloat: return t.data<float>()[i];
    case DataType::kDouble: return t.data<double>()[i];
    case DataType::kFloat16: return half_to_float(t.data<uint16_t>()[i]);
    case DataType::kBFloat16: return bfloat16_to_float(t.data<uint16_t>()[i]);
    default: return 0;
  }
}

// gtest prints the parameter of a failing case: the directory says which case it is.
void PrintTo(const Case& c, std::ostream* os) { *os << c.dir.string(); }

class Conformance : public testing::TestWithParam<Case> {};

TEST_P(Conformance, MatchesTheExpectedOutputs) {
  const Case& c = GetParam();
  static const auto skips = skip_list();
  if (auto it = skips.find(c.name); it != skips.end()) GTEST_SKIP() << it->second;
  Model model = Model::load(c.dir / "model.onnx");
  Executor executor(model, ExecutorOptions{.threads = 2});
  for (const auto& set : fs::directory_iterator(c.dir)) {
    if (set.path().filename().string().rfind("test_data_set_", 0) != 0) continue;
    SCOPED_TRACE(set.path().filename().string());
    NamedTensors inputs;
    const auto& graph_inputs = model.graph().input();
    std::set<std::string> initializers;
    for (const auto& t : model.graph().initializer()) initializers.insert(t.name());
    int k = 0;
    for (const auto& v : graph_inputs) {
      if (initializers.count(v.name())) continue;
      fs::path file = set.path() / ("input_" + std::to_string(k++) + ".pb");
      if (!fs::exists(file)) break;
      inputs.emplace_back(v.name(), read_tensor(file));
    }
    auto outputs = executor.run(inputs);
    for (size_t o = 0; o < outputs.size(); ++o) {
      fs::path file = set.path() / ("output_" + std::to_string(o) + ".pb");
      if (!fs::exists(file)) continue;
      const Tensor expected = read_tensor(file);
      const Tensor& got = outputs[o];
      SCOPED_TRACE("output " + std::to_string(o));
      ASSERT_EQ(dtype_name(got.dtype()), dtype_name(expected.dtype()));
      ASSERT_EQ(shape_to_string(got.shape()), shape_to_string(expected.shape()));
      if (dtype_is_float(expected.dtype())) {
        for (int64_t i = 0; i < got.numel(); ++i) {
          const double e = as_double(expected, i), g = as_double(got, i);
          if (std::isnan(e) && std::isnan(g)) continue;
          if (std::isinf(e) && g == e) continue;
          ASSERT_LE(std::abs(g - e), 1e-7 + 1e-3 * std::abs(e)) << "element " << i << ": got " << g << ", expected " << e;
        }
      } else {
        ASSERT_TRUE(got.equals(expected)) << "integer/bool values differ";
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Suite, Conformance, testing::ValuesIn(census().runnable),
                         [](const testing::TestParamInfo<Case>& info) { return info.param.name; });
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(Conformance);

// Not a check: prints how much of the suite runs, and which ops block the rest, so the
// README's figures come from one place.
TEST(ConformanceCensus, ReportsHowManyCasesRun) {
  const Census& c = census();
  if (c.total == 0) GTEST_SKIP() << "libonnx-testdata is not installed at " << kSuiteRoot;
  std::vector<std::pair<int, std::string>> blockers;
  for (const auto& [op, n] : c.missing) blockers.emplace_back(-n, op);
  std::sort(blockers.begin(), blockers.end());
  std::string top;
  for (size_t i = 0; i < blockers.size() && i < 40; ++i)
    top += " " + blockers[i].second + "(" + std::to_string(-blockers[i].first) + ")";
  std::cout << "conformance: " << c.runnable.size() << " of " << c.total
            << " cases have kernels for every op; blocked by:" << top << "\n";
  EXPECT_GT(c.runnable.size(), 0u);
}

}  // namespace
}  // namespace onnxq

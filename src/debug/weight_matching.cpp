// Every quantized weight of QUANT, found by the readers, matched to its float tensor in FLOAT:
// by name first (W_quantized stands for W), else by the node standing for the float op (same
// name, or onnxq's "<name>_quant" / "<name>_MatMulNBits") and the weight's input slot.
#include <algorithm>
#include <cmath>
#include <limits>
#include <set>

#include "debug/weight_readers.hpp"
#include "onnxq/debug.hpp"

namespace onnxq {
namespace {

using debug::GraphIndex;
using debug::QuantizedWeightRef;

bool is_float32(const onnx::TensorProto* p) { return p && p->data_type() == onnx::TensorProto::FLOAT; }

std::string strip_suffix(const std::string& s, const std::string& suffix) {
  if (s.size() > suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0)
    return s.substr(0, s.size() - suffix.size());
  return {};
}

// The float weight a reference stands for, and how it was found; empty when none.
std::pair<std::string, std::string> find_float(const GraphIndex& f, const GraphIndex& q, const QuantizedWeightRef& ref) {
  if (const std::string name = debug::float_name_of(ref.values); !name.empty() && is_float32(f.constant(name)))
    return {name, "name"};
  if (ref.node < 0) return {};
  const std::string& qname = q.node(ref.node).name();
  if (qname.empty()) return {};
  for (const std::string& candidate : {qname, strip_suffix(qname, "_quant"), strip_suffix(qname, "_MatMulNBits")}) {
    if (candidate.empty()) continue;
    const int n = f.node_named(candidate);
    if (n < 0 || ref.float_slot >= f.node(n).input_size()) continue;
    const std::string& w = f.node(n).input(ref.float_slot);
    if (is_float32(f.constant(w))) return {w, "node"};
  }
  return {};
}

// The dequantized weight in the float tensor's layout: equal shapes, the last two axes swapped
// (Gemm's transB, DynamicQuantizeLSTM) or only a different shape of the same elements.
std::optional<Tensor> to_float_layout(const Tensor& dq, const Shape& want) {
  if (dq.shape() == want) return dq;
  if (dq.numel() != shape_numel(want)) return std::nullopt;
  Shape swapped = dq.shape();
  if (swapped.size() >= 2) std::swap(swapped[swapped.size() - 1], swapped[swapped.size() - 2]);
  if (dq.rank() >= 2 && swapped == want) {
    const int64_t rows = dq.shape()[dq.rank() - 2], cols = dq.shape()[dq.rank() - 1];
    const int64_t batch = dq.numel() / std::max<int64_t>(rows * cols, 1);
    Tensor out(DataType::kFloat, want);
    const float* src = dq.data<float>();
    float* dst = out.data<float>();
    for (int64_t b = 0; b < batch; ++b)
      for (int64_t r = 0; r < rows; ++r)
        for (int64_t c = 0; c < cols; ++c) dst[b * rows * cols + c * rows + r] = src[b * rows * cols + r * cols + c];
    return out;
  }
  return dq.reshaped(want);
}

}  // namespace

std::vector<WeightError> match_weights(const Model& float_model, const Model& quant, std::vector<std::string>* warnings) {
  // Weights inside If/Loop/Scan bodies count too.
  const GraphIndex f(float_model, true), q(quant, true);
  const auto& readers = debug::weight_readers();
  auto warn = [&](const std::string& w) {
    if (warnings) warnings->push_back(w);
  };
  std::vector<WeightError> out;
  std::set<std::string> seen;  // a weight shared by several nodes is stored, and reported, once
  for (int i = 0; i < q.node_count(); ++i) {
    const auto& node = q.node(i);
    const std::string domain = node.domain() == "ai.onnx" ? "" : node.domain();
    auto reader = readers.find(domain + ":" + node.op_type());
    if (reader == readers.end()) continue;
    std::vector<QuantizedWeightRef> refs;
    try {
      refs = reader->second(q, i);
    } catch (const Error& e) {
      warn("node '" + node.name() + "' (" + node.op_type() + "): " + e.what());
      continue;
    }
    for (auto& ref : refs) {
      if (!seen.insert(ref.values).second) continue;
      const auto [name, how] = find_float(f, q, ref);
      const int reader_node = ref.node >= 0 ? ref.node : i;
      if (name.empty()) {
        warn("weight '" + ref.values + "' of node '" + q.node(reader_node).name() + "': no float tensor in the float model");
        continue;
      }
      const Tensor w = f.value(name);
      const auto dq = to_float_layout(ref.dequantized, w.shape());
      if (!dq) {
        warn("weight '" + ref.values + "': " + shape_to_string(ref.dequantized.shape()) + " does not fit float '" + name +
             "' " + shape_to_string(w.shape()));
        continue;
      }
      WeightError e;
      e.name = name;
      e.quantized = ref.values;
      e.node = q.node(reader_node).name();
      e.op_type = q.node(reader_node).op_type();
      e.type = ref.type;
      e.matched_by = how;
      e.params = ref.params;
      e.bytes_before = w.nbytes();
      e.bytes_after = ref.bytes_after;
      e.order = reader_node;
      const float* x = w.data<float>();
      const float* y = dq->data<float>();
      double signal = 0, noise = 0;
      for (int64_t k = 0; k < w.numel(); ++k) {
        const double d = static_cast<double>(x[k]) - y[k];
        signal += static_cast<double>(x[k]) * x[k];
        noise += d * d;
        e.max_abs_error = std::max(e.max_abs_error, std::abs(d));
      }
      e.sqnr_db = noise == 0 ? std::numeric_limits<double>::infinity()
                             : signal == 0 ? -std::numeric_limits<double>::infinity() : 10 * std::log10(signal / noise);
      out.push_back(std::move(e));
    }
  }
  std::stable_sort(out.begin(), out.end(), [](const WeightError& a, const WeightError& b) { return a.order < b.order; });
  return out;
}

}  // namespace onnxq

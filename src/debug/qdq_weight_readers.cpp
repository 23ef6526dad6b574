// DequantizeLinear on a constant: QDQ weights of quantize-static and of quantize-dynamic's qdq
// format, per tensor, per axis or blocked (opset 21, 4-bit), in both domains.
#include "debug/weight_readers.hpp"

namespace onnxq::debug {
namespace {

std::vector<QuantizedWeightRef> read_dequantize_linear(const GraphIndex& quant, int index) {
  const auto& n = quant.node(index);
  if (n.input_size() < 2 || !quant.constant(n.input(0)) || !quant.constant(n.input(1))) return {};
  const Tensor values = quant.value(n.input(0));
  if (dtype_is_float(values.dtype())) return {};
  const std::string zp = n.input_size() > 2 ? n.input(2) : "";
  if (!zp.empty() && !quant.constant(zp)) return {};
  QuantLayout layout;
  layout.axis = static_cast<int>(int_attr(n, "axis", 1));
  layout.block_size = static_cast<int>(int_attr(n, "block_size", 0));
  QuantizedWeightRef ref = read_linear_weight(quant, n.input(0), n.input(1), zp, layout);
  // Matching by node looks at the op that reads the dequantized weight.
  const auto& readers = quant.consumers(n.output(0));
  if (!readers.empty()) {
    ref.node = readers.front().first;
    ref.float_slot = readers.front().second;
  }
  return {std::move(ref)};
}

}  // namespace

void register_qdq_weight_readers(WeightReaderRegistry& registry) {
  registry[":DequantizeLinear"] = read_dequantize_linear;
  registry["com.microsoft:DequantizeLinear"] = read_dequantize_linear;
}

}  // namespace onnxq::debug

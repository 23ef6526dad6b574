#include "debug/weight_readers.hpp"

#include <cctype>

namespace onnxq::debug {

const WeightReaderRegistry& weight_readers() {
  static const WeightReaderRegistry registry = [] {
    WeightReaderRegistry r;
    register_qdq_weight_readers(r);
    register_integer_weight_readers(r);
    register_contrib_weight_readers(r);
    return r;
  }();
  return registry;
}

QuantizedWeightRef read_linear_weight(const GraphIndex& quant, const std::string& values, const std::string& scale,
                                      const std::string& zero_point, QuantLayout layout) {
  const Tensor v = quant.value(values);
  const Tensor s = quant.value(scale);
  const Tensor z = zero_point.empty() ? Tensor() : quant.value(zero_point);
  QuantizedWeightRef ref;
  ref.values = values;
  ref.dequantized = dequantize(v, s, z, layout, "weight '" + values + "'");
  ref.type = std::string(dtype_name(v.dtype()));
  ref.params = summarize_params(s, z);
  ref.bytes_after = v.nbytes() + s.nbytes() + (z.defined() ? z.nbytes() : 0);
  return ref;
}

std::string float_name_of(const std::string& name) {
  static const std::string kSuffix = "_quantized";
  size_t end = name.size();
  // A trailing "_<digits>" is the uniquifier NameSet adds on a clash.
  size_t p = end;
  while (p > 0 && std::isdigit(static_cast<unsigned char>(name[p - 1]))) --p;
  if (p < end && p > 0 && name[p - 1] == '_') end = p - 1;
  if (end > kSuffix.size() && name.compare(end - kSuffix.size(), kSuffix.size(), kSuffix) == 0)
    return name.substr(0, end - kSuffix.size());
  if (name.size() > kSuffix.size() && name.compare(name.size() - kSuffix.size(), kSuffix.size(), kSuffix) == 0)
    return name.substr(0, name.size() - kSuffix.size());
  return {};
}

}  // namespace onnxq::debug

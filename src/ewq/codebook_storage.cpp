// --storage gather: the weight is rebuilt in the graph from plain ONNX ops, so the model runs
// anywhere, keeping its opset where it can.
#include "ewq/codebook_storage.hpp"

namespace onnxq {
namespace {

onnx::AttributeProto string_attr(const std::string& name, const std::string& value) {
  onnx::AttributeProto a;
  a.set_name(name);
  a.set_type(onnx::AttributeProto::STRING);
  a.set_s(value);
  return a;
}

Tensor int64_vector(const std::vector<int64_t>& v) { return Tensor::from_vector<int64_t>({static_cast<int64_t>(v.size())}, v); }

}  // namespace

IndexLayout index_layout(int stride, int64_t opset) {
  if (stride > 16) return IndexLayout::kUInt8;
  if (opset >= 21) return IndexLayout::kUInt4;
  return opset >= 11 ? IndexLayout::kPacked : IndexLayout::kUInt8;
}

const char* index_layout_name(IndexLayout layout) {
  switch (layout) {
    case IndexLayout::kUInt8: return "uint8";
    case IndexLayout::kUInt4: return "uint4";
    case IndexLayout::kPacked: return "uint4x2";
  }
  return "?";
}

uint64_t stored_bytes(const CodedWeight& w) {
  const uint64_t indices = w.index.nbytes();
  const uint64_t units = w.table.size() / std::max(1, w.stride);
  return indices + w.table.size() * 4 + (w.axis >= 0 ? units * 4 : 0);
}

std::string emit_gather_storage(GraphEditor& owner, const CodedWeight& w, std::vector<onnx::NodeProto>& nodes) {
  const std::string& base = w.name;
  auto name = [&](const std::string& suffix) { return owner.unique_name(base + "_ewq_" + suffix); };
  const int64_t n = shape_numel(w.shape);
  std::string index;  // uint8 or uint4 codes in the weight's shape
  if (w.layout != IndexLayout::kPacked) {
    index = name("codes");
    owner.add_initializer(index, w.index);
  } else {
    // Stored [m, 1] so the two halves concatenate along axis 1 into element order.
    const int64_t m = (n + 1) / 2;
    const std::string packed_name = name("packed"), four = name("four");
    owner.add_initializer(packed_name, w.index);
    owner.add_initializer(four, Tensor::from_vector<uint8_t>({}, {4}));
    const std::string hi = name("high"), shifted = name("shifted"), lo = name("low"), pairs = name("pairs");
    nodes.push_back(make_node("BitShift", {packed_name, four}, {hi}, hi));
    *nodes.back().add_attribute() = string_attr("direction", "RIGHT");
    // (p << 4) wraps in uint8, dropping the high nibble: no And needed (BitwiseAnd is opset 18).
    nodes.push_back(make_node("BitShift", {packed_name, four}, {shifted}, shifted));
    *nodes.back().add_attribute() = string_attr("direction", "LEFT");
    nodes.push_back(make_node("BitShift", {shifted, four}, {lo}, lo));
    *nodes.back().add_attribute() = string_attr("direction", "RIGHT");
    nodes.push_back(make_node("Concat", {lo, hi}, {pairs}, pairs));
    set_attr(nodes.back(), "axis", int64_t{1});
    std::string flat = pairs;
    if (n % 2) {
      const std::string flat_shape = name("flat_shape"), flat_all = name("flat"), starts = name("starts"),
                        ends = name("ends");
      owner.add_initializer(flat_shape, int64_vector({2 * m}));
      owner.add_initializer(starts, int64_vector({0}));
      owner.add_initializer(ends, int64_vector({n}));
      nodes.push_back(make_node("Reshape", {pairs, flat_shape}, {flat_all}, flat_all));
      flat = name("sliced");
      nodes.push_back(make_node("Slice", {flat_all, starts, ends}, {flat}, flat));
    }
    const std::string shape = name("shape");
    owner.add_initializer(shape, int64_vector(w.shape));
    index = name("codes");
    nodes.push_back(make_node("Reshape", {flat, shape}, {index}, index));
  }
  std::string wide = name("index");
  nodes.push_back(make_node("Cast", {index}, {wide}, wide));
  set_attr(nodes.back(), "to", int64_t{onnx::TensorProto::INT32});
  if (w.axis >= 0) {
    // Channel c's codebook starts at c * stride of the table.
    const int64_t units = static_cast<int64_t>(w.table.size()) / w.stride;
    Shape offset_shape(w.shape.size(), 1);
    offset_shape[w.axis] = units;
    std::vector<int32_t> offsets(units);
    for (int64_t c = 0; c < units; ++c) offsets[c] = static_cast<int32_t>(c * w.stride);
    const std::string offsets_name = name("offsets"), global = name("global_index");
    owner.add_initializer(offsets_name, Tensor::from_vector<int32_t>(offset_shape, offsets));
    nodes.push_back(make_node("Add", {wide, offsets_name}, {global}, global));
    wide = global;
  }
  const std::string table = name("codebook"), out = owner.unique_name(base + "_ewq");
  owner.add_initializer(table, Tensor::from_vector<float>({static_cast<int64_t>(w.table.size())}, w.table));
  nodes.push_back(make_node("Gather", {table, wide}, {out}, out));
  set_attr(nodes.back(), "axis", int64_t{0});
  return out;
}

}  // namespace onnxq

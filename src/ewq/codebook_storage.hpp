#pragma once

#include <onnx/onnx_pb.h>

#include <string>
#include <vector>

#include "onnxq/tensor.hpp"
#include "quant/graph_editor.hpp"

namespace onnxq {

enum class IndexLayout {
  kUInt8,   // one code per byte
  kUInt4,   // ONNX uint4 (opset 21, IR 10), widened by Cast
  kPacked,  // two codes per uint8, unpacked by BitShift (opset 11 to 20, keeps the opset)
};

// A weight's codebooks and codes, ready to be stored.
struct CodedWeight {
  std::string name;  // the float weight's name
  Shape shape;
  int axis = -1;    // -1: one codebook
  int stride = 0;   // entries per codebook (shorter ones are padded with their last value)
  std::vector<float> table;  // codebooks one after the other, `stride` each
  IndexLayout layout = IndexLayout::kUInt8;
  // Each element's code within its codebook, as `layout` stores them: uint8 or uint4 in the
  // weight's shape, or kPacked's uint8 [(n + 1) / 2, 1] (element 2i in the low nibble of byte i).
  Tensor index;
};

IndexLayout index_layout(int stride, int64_t opset);
const char* index_layout_name(IndexLayout layout);
// Bytes of the stored indices, codebooks and per-channel offsets.
uint64_t stored_bytes(const CodedWeight& w);

// Adds the initializers to `owner` and appends to `nodes` what rebuilds the float weight:
// codes -> [unpack] -> Cast int32 -> [Add channel offsets] -> Gather(codebook). Returns the name
// of the rebuilt weight.
std::string emit_gather_storage(GraphEditor& owner, const CodedWeight& w, std::vector<onnx::NodeProto>& nodes);

}  // namespace onnxq

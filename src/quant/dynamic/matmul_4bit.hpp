#pragma once

#include "quant/dynamic/dynamic_rules.hpp"

namespace onnxq {

// The MatMul rule's 4-bit path (weight-only, block-wise along K), for a node whose input B is the
// constant 2-D float32 `weight`.
RuleResult quantize_matmul_4bit(DynamicContext& ctx, const onnx::NodeProto& node, GraphEditor::Constant weight);

// B[K, N] quantized block-wise along K (values [K, N], scale and zero point [ceil(K / block), N]) in
// MatMulNBits' layout: values uint8 [N, blocks, block / 2], scale float32 [N * blocks], and for uint4
// the zero points uint8 [N * ceil(blocks / 2)]; int4 is stored as q + 8 without zero points.
// With `spill`, the packed values are written there (see core/spill_file.hpp). The same bytes
// for any thread count.
QuantizedWeight pack_matmul_nbits(const QuantizedWeight& q, int64_t block_size, int threads = 1,
                                  SpillFile* spill = nullptr);

}  // namespace onnxq

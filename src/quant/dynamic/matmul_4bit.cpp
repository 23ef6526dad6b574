// MatMul with a constant 2-D weight B[K, N] and 4-bit weights, one scale (and zero point) per block of
// `block_size` rows of each column, as ONNX Runtime's MatMulNBitsQuantizer does:
//   matmulnbits: com.microsoft MatMulNBits(A, B_packed, scales[, zero_points]) with K, N, bits, block_size
//                (and accuracy_level); ONNX Runtime's CPU kernel wants block_size a power of two >= 16 and
//                B padded with whole blocks along K.
//   qdq:         B_quantized int4/uint4 [K, N] -> DequantizeLinear(axis 0, block_size) -> MatMul (opset 21).
#include "quant/dynamic/matmul_4bit.hpp"

#include <algorithm>
#include <vector>

#include "core/parallel.hpp"
#include "core/spill_file.hpp"
#include "onnxq/tensor_proto.hpp"

namespace onnxq {

QuantizedWeight pack_matmul_nbits(const QuantizedWeight& q, int64_t block_size, int threads, SpillFile* spill) {
  if (block_size <= 0 || block_size % 2 != 0)
    fail(ExitCode::kInternal, "MatMulNBits block size must be even, not " + std::to_string(block_size));
  const int64_t k = q.values.shape().at(0), n = q.values.shape().at(1);
  const int64_t blocks = (k + block_size - 1) / block_size;
  const int64_t blob = block_size / 2;
  const int64_t zp_bytes = (blocks + 1) / 2;
  // MatMulNBits reads unsigned nibbles; without zero points it assumes 8, the zero of symmetric int4.
  // A signed nibble plus 8 is the nibble with its top bit flipped.
  const bool is_signed = q.values.dtype() == DataType::kInt4;
  const uint8_t flip = is_signed ? 0x8 : 0;

  QuantizedWeight out;
  out.scale = Tensor(DataType::kFloat, {n * blocks});
  if (!is_signed) out.zero_point = Tensor(DataType::kUInt8, {n * zp_bytes});
  out.sqnr_db = q.sqnr_db;
  float* scales = out.scale.data<float>();
  const float* in_scales = q.scale.data<float>();
  for (int64_t col = 0; col < n; ++col)
    for (int64_t b = 0; b < blocks; ++b) {
      const int64_t s = b * n + col;  // q's scales are [blocks, N]
      scales[col * blocks + b] = in_scales[s];
      if (!is_signed) {
        uint8_t& byte = out.zero_point.data<uint8_t>()[col * zp_bytes + b / 2];
        byte = static_cast<uint8_t>(byte | (read_quantized(q.zero_point, s) & 0xf) << (4 * (b % 2)));
      }
    }

  // Columns in tiles: a tile's packed bytes are contiguous ([N, blocks, blob]), so a tile is
  // built in a small buffer and written out whole, and reading 64 columns of a row uses whole
  // cache lines of the row-major input.
  constexpr int64_t kTile = 64;
  const int64_t col_bytes = blocks * blob;
  const int64_t tiles = (n + kTile - 1) / kTile;
  Tensor values;
  uint64_t spill_offset = 0;
  const uint64_t total = static_cast<uint64_t>(n * col_bytes);
  if (spill && total > 0)
    spill_offset = spill->reserve(total);
  else
    values = Tensor::uninitialized(DataType::kUInt8, {n, blocks, blob});
  const auto* in = reinterpret_cast<const uint8_t*>(q.values.raw_data());
  const auto* zps = reinterpret_cast<const uint8_t*>(q.zero_point.raw_data());
  parallel_for(tiles, threads, [&](int64_t t) {
    const int64_t c0 = t * kTile, c1 = std::min(n, c0 + kTile);
    static thread_local std::vector<uint8_t> buffer;
    uint8_t* dst = values.defined() ? values.data<uint8_t>() + c0 * col_bytes : nullptr;
    if (!dst) {
      buffer.resize(static_cast<size_t>((c1 - c0) * col_bytes));
      dst = buffer.data();
    }
    // Two rows at a time make whole bytes (row 2m in the low nibble, 2m + 1 in the high one):
    // each row's nibbles for the tile are unpacked first, then written down the columns.
    uint8_t even[kTile], odd[kTile];
    auto unpack = [&](int64_t row, uint8_t* to) {
      const int64_t b = row / block_size;
      const int64_t first = row < k ? row * n + c0 : b * n + c0;
      if (first % 2 == 0) {  // whole bytes: two columns each
        const uint8_t* from = (row < k ? in : zps) + first / 2;
        const int64_t width = c1 - c0;
        for (int64_t c = 0; c + 1 < width; c += 2) {
          to[c] = static_cast<uint8_t>((from[c / 2] & 0xf) ^ flip);
          to[c + 1] = static_cast<uint8_t>((from[c / 2] >> 4) ^ flip);
        }
        if (width % 2) to[width - 1] = static_cast<uint8_t>((from[(width - 1) / 2] & 0xf) ^ flip);
        return;
      }
      for (int64_t col = c0; col < c1; ++col) {
        // Padding rows hold the zero point: they dequantize to exactly 0.
        const int64_t i = row < k ? row * n + col : b * n + col;
        const uint8_t* from = row < k ? in : zps;
        to[col - c0] = static_cast<uint8_t>(((from[i / 2] >> (4 * (i % 2))) & 0xf) ^ flip);
      }
    };
    for (int64_t row = 0; row < blocks * block_size; row += 2) {
      unpack(row, even);
      unpack(row + 1, odd);  // block_size is even, so row + 1 is in the same block
      const int64_t b = row / block_size, j = row % block_size;
      uint8_t* at = dst + b * blob + j / 2;
      for (int64_t c = 0; c < c1 - c0; ++c) at[c * col_bytes] = static_cast<uint8_t>(even[c] | odd[c] << 4);
    }
    if (!values.defined())
      spill->write(spill_offset + static_cast<uint64_t>(c0 * col_bytes), dst, static_cast<uint64_t>((c1 - c0) * col_bytes));
  });
  out.values = values.defined() ? values : spill->view(DataType::kUInt8, {n, blocks, blob}, spill_offset);
  return out;
}

RuleResult quantize_matmul_4bit(DynamicContext& ctx, const onnx::NodeProto& node, GraphEditor::Constant weight) {
  const auto& opts = ctx.options;
  const Shape shape = proto_shape(*weight.proto);
  const int64_t k = shape[0], n = shape[1];
  if (k == 0 || n == 0) return RuleResult::skip("weight B is empty");

  WeightQuantSpec spec;
  spec.type = opts.weight_type;
  spec.symmetric = opts.weight_type == DataType::kInt4;  // int4 symmetric, uint4 asymmetric, as ORT's tool
  spec.axis = 0;
  spec.block_size = opts.block_size;

  const std::string& b = node.input(1);
  const std::string& y = node.output(0);
  const std::string base = node.name().empty() ? y : node.name();
  auto& g = ctx.graph;
  RuleResult out;

  if (opts.int4_format == Int4Format::kQDQ) {
    const QuantizedWeightNames q = ctx.weights.quantize(weight, b, spec, node);
    const std::string b_dq = g.unique_name(b + "_DequantizeLinear_Output");
    auto dq = make_node("DequantizeLinear", {q.values, q.scale, q.zero_point}, {b_dq},
                        g.unique_name(base + "_B_DequantizeLinear"));
    set_attr(dq, "axis", int64_t{0});
    set_attr(dq, "block_size", int64_t{opts.block_size});
    ctx.require_opset("", 21);  // blocked DequantizeLinear and 4-bit types
    onnx::NodeProto mm = node;
    mm.set_input(1, b_dq);
    out.nodes = {dq, mm};
    return out;
  }

  const int64_t block_size = opts.block_size;
  WeightLayout layout{"MatMulNBits", [block_size](const QuantizedWeight& q) { return pack_matmul_nbits(q, block_size); }};
  layout.pack_spilled = [block_size, threads = opts.threads](const QuantizedWeight& q, SpillFile* spill) {
    return pack_matmul_nbits(q, block_size, threads, spill);
  };
  const QuantizedWeightNames q = ctx.weights.quantize(weight, b, spec, node, &layout);
  std::vector<std::string> inputs = {node.input(0), q.values, q.scale};
  if (!q.zero_point.empty()) inputs.push_back(q.zero_point);
  auto mm = make_node("MatMulNBits", inputs, {y}, g.unique_name(base + "_MatMulNBits"), "com.microsoft");
  set_attr(mm, "K", k);
  set_attr(mm, "N", n);
  set_attr(mm, "bits", int64_t{4});
  set_attr(mm, "block_size", block_size);
  if (opts.accuracy_level >= 0) set_attr(mm, "accuracy_level", int64_t{opts.accuracy_level});
  ctx.require_opset("com.microsoft", 1);
  out.nodes = {mm};
  return out;
}

}  // namespace onnxq

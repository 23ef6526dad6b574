// Weights of ONNX Runtime's com.microsoft ops: MatMulNBits (packed 4- or 8-bit blocks),
// DynamicQuantizeMatMul, QAttention and DynamicQuantizeLSTM, unpacked to the float op's layout.
#include "debug/weight_readers.hpp"

#include "onnxq/weight_quant.hpp"

namespace onnxq::debug {
namespace {

std::string input_or_empty(const onnx::NodeProto& n, int slot) { return slot < n.input_size() ? n.input(slot) : ""; }

bool is_integer_constant(const GraphIndex& quant, const std::string& name) {
  const auto* p = quant.constant(name);
  return p && p->data_type() != onnx::TensorProto::FLOAT && p->data_type() != onnx::TensorProto::FLOAT16;
}

// MatMulNBits(A, B[N, blocks, blob], scales[N·blocks], zero_points?) with attributes K, N, bits,
// block_size: column n, row k is element k % block_size of block k / block_size, low bits first;
// zero points are packed the same way per column (default 2^(bits−1)). Unpacked to MatMul's B [K, N].
std::vector<QuantizedWeightRef> read_matmul_nbits(const GraphIndex& quant, int index) {
  const auto& n = quant.node(index);
  const std::string b = input_or_empty(n, 1), s = input_or_empty(n, 2), z = input_or_empty(n, 3);
  if (!is_integer_constant(quant, b) || !quant.constant(s)) return {};
  const std::string what = "MatMulNBits weight '" + b + "'";
  const int64_t k = int_attr(n, "K", 0), cols = int_attr(n, "N", 0), bits = int_attr(n, "bits", 4),
                block = int_attr(n, "block_size", 0);
  if (k <= 0 || cols <= 0 || block <= 0 || (bits != 2 && bits != 4 && bits != 8))
    fail(ExitCode::kUnsupported, what + ": K, N, block_size or bits (" + std::to_string(bits) + ") not understood");
  const int64_t blocks = (k + block - 1) / block, per_byte = 8 / bits, blob = block / per_byte;
  const Tensor packed = quant.value(b);
  const Tensor scale = float_scale(quant.value(s));
  Tensor zp;
  if (!z.empty()) {
    zp = quant.value(z);
    if (zp.dtype() != DataType::kUInt8) fail(ExitCode::kUnsupported, what + ": zero points that are not packed uint8");
  }
  const int64_t zp_bytes = (blocks + per_byte - 1) / per_byte;
  if (packed.dtype() != DataType::kUInt8 || packed.numel() != cols * blocks * blob || scale.numel() != cols * blocks ||
      (zp.defined() && zp.numel() != cols * zp_bytes))
    fail(ExitCode::kInput, what + ": B, scales or zero points do not match K " + std::to_string(k) + ", N " +
                               std::to_string(cols) + ", block_size " + std::to_string(block));
  const uint8_t* q = packed.data<uint8_t>();
  const int32_t mask = (1 << bits) - 1;
  auto nibble = [&](const uint8_t* bytes, int64_t i) {
    return static_cast<int32_t>(bytes[i / per_byte] >> (bits * (i % per_byte))) & mask;
  };
  Tensor out(DataType::kFloat, {k, cols});
  Tensor zp_values(DataType::kInt32, {cols * blocks});
  for (int64_t c = 0; c < cols; ++c)
    for (int64_t blk = 0; blk < blocks; ++blk) {
      const int32_t zero = zp.defined() ? nibble(zp.data<uint8_t>() + c * zp_bytes, blk) : 1 << (bits - 1);
      zp_values.data<int32_t>()[c * blocks + blk] = zero;
      const float sc = scale.data<float>()[c * blocks + blk];
      const uint8_t* data = q + (c * blocks + blk) * blob;
      for (int64_t j = 0; j < block && blk * block + j < k; ++j)
        out.data<float>()[(blk * block + j) * cols + c] = static_cast<float>(nibble(data, j) - zero) * sc;
    }
  QuantizedWeightRef ref;
  ref.values = b;
  ref.node = index;
  ref.dequantized = out;
  ref.type = "uint" + std::to_string(bits) + " (MatMulNBits)";
  ref.params = summarize_params(scale, zp_values);
  ref.bytes_after = packed.nbytes() + quant.value(s).nbytes() + (zp.defined() ? zp.nbytes() : 0);
  return {std::move(ref)};
}

WeightReader fixed_slots(int values, int scale, int zero_point, int axis) {
  return [=](const GraphIndex& quant, int index) -> std::vector<QuantizedWeightRef> {
    const auto& n = quant.node(index);
    const std::string v = input_or_empty(n, values), s = input_or_empty(n, scale);
    if (!is_integer_constant(quant, v) || !quant.constant(s)) return {};
    QuantizedWeightRef ref = read_linear_weight(quant, v, s, input_or_empty(n, zero_point), {axis, 0});
    ref.node = index;
    return {std::move(ref)};
  };
}

// DynamicQuantizeLSTM stores W [dirs, input, 4·hidden] and R [dirs, hidden, 4·hidden] (the float
// LSTM's [dirs, 4·hidden, k] transposed), scales and zero points per direction [dirs] or per
// gate row [dirs, 4·hidden].
QuantizedWeightRef read_lstm_weight(const GraphIndex& quant, int index, int slot, int scale_slot) {
  const auto& n = quant.node(index);
  const std::string v = n.input(slot), s = input_or_empty(n, scale_slot), z = input_or_empty(n, scale_slot + 1);
  const std::string what = "DynamicQuantizeLSTM weight '" + v + "'";
  const Tensor values = quant.value(v);
  const Tensor scale = float_scale(quant.value(s));
  const Tensor zp = z.empty() ? Tensor() : quant.value(z);
  if (values.rank() != 3) fail(ExitCode::kInput, what + ": not 3-D");
  const int64_t dirs = values.shape()[0], k = values.shape()[1], rows = values.shape()[2];
  const bool per_row = scale.numel() == dirs * rows && rows > 1;
  if (!per_row && scale.numel() != dirs) fail(ExitCode::kInput, what + ": scale is neither per direction nor per row");
  Tensor out(DataType::kFloat, {dirs, rows, k});
  for (int64_t d = 0; d < dirs; ++d)
    for (int64_t r = 0; r < rows; ++r) {
      const int64_t p = per_row ? d * rows + r : d;
      const int32_t zero = zp.defined() ? read_quantized(zp, p) : 0;
      for (int64_t c = 0; c < k; ++c)
        out.data<float>()[(d * rows + r) * k + c] =
            static_cast<float>(read_quantized(values, (d * k + c) * rows + r) - zero) * scale.data<float>()[p];
    }
  QuantizedWeightRef ref;
  ref.values = v;
  ref.node = index;
  ref.float_slot = slot;
  ref.dequantized = out;
  ref.type = std::string(dtype_name(values.dtype()));
  ref.params = summarize_params(scale, zp);
  ref.bytes_after = values.nbytes() + scale.nbytes() + (zp.defined() ? zp.nbytes() : 0);
  return ref;
}

std::vector<QuantizedWeightRef> read_dynamic_quantize_lstm(const GraphIndex& quant, int index) {
  const auto& n = quant.node(index);
  std::vector<QuantizedWeightRef> out;
  if (n.input_size() > 9 && is_integer_constant(quant, n.input(1)) && quant.constant(n.input(8)))
    out.push_back(read_lstm_weight(quant, index, 1, 8));
  if (n.input_size() > 11 && is_integer_constant(quant, n.input(2)) && quant.constant(n.input(10)))
    out.push_back(read_lstm_weight(quant, index, 2, 10));
  return out;
}

}  // namespace

void register_contrib_weight_readers(WeightReaderRegistry& registry) {
  registry["com.microsoft:MatMulNBits"] = read_matmul_nbits;
  registry["com.microsoft:DynamicQuantizeMatMul"] = fixed_slots(1, 2, 3, -1);
  registry["com.microsoft:QAttention"] = fixed_slots(1, 4, 7, -1);
  registry["com.microsoft:DynamicQuantizeLSTM"] = read_dynamic_quantize_lstm;
}

}  // namespace onnxq::debug

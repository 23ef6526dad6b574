// MatMulInteger, QLinearMatMul and com.microsoft's DynamicQuantizeMatMul and MatMulNBits.
// Integer products accumulate exactly in int32; the float steps after them follow ONNX
// Runtime's order of operations so quantized outputs match it bit for bit.
#include <string>

#include "exec/gemm.hpp"
#include "exec/kernel.hpp"
#include "exec/kernels/families.hpp"
#include "exec/kernels/int_gemm.hpp"
#include "exec/kernels/quant_common.hpp"

namespace onnxq::exec {
namespace {

using namespace quant;

// Zero points per tensor (one value), per row of A / column of B (`dim` values, shared by
// the batch), or per row/column of each matrix of the batch.
std::vector<int32_t> expand_zero_points(const std::string& op, const char* what, const Tensor* zp, int64_t matrices,
                                        int64_t dim) {
  std::vector<int32_t> out(static_cast<size_t>(matrices * dim), 0);
  if (!zp) return out;
  const std::vector<int32_t> v = ints_of(*zp);
  const auto n = static_cast<int64_t>(v.size());
  if (n != 1 && n != dim && n != matrices * dim)
    fail(ExitCode::kInput, op + ": " + what + " of shape " + shape_to_string(zp->shape()) + " matches neither the tensor nor its rows/columns");
  for (int64_t i = 0; i < matrices * dim; ++i) out[static_cast<size_t>(i)] = v[static_cast<size_t>(n == 1 ? 0 : (n == dim ? i % dim : i))];
  return out;
}

// acc[batch][m][n] = Σ_k (a - a_zp[row]) · (b - b_zp[col]) for every output matrix.
std::vector<int32_t> integer_matmul(const MatMulPlan& p, const std::vector<int32_t>& a, const std::vector<int32_t>& a_zp,
                                    const std::vector<int32_t>& b, const std::vector<int32_t>& b_zp, int threads) {
  const int64_t M = p.M, N = p.N, K = p.K;
  std::vector<int32_t> a_rows(a.size()), b_cols(b.size());
  for (int64_t mat = 0; mat < p.a_matrices; ++mat)
    for (int64_t m = 0; m < M; ++m)
      for (int64_t k = 0; k < K; ++k) {
        const auto i = static_cast<size_t>((mat * M + m) * K + k);
        a_rows[i] = a[i] - a_zp[static_cast<size_t>(mat * M + m)];
      }
  for (int64_t mat = 0; mat < p.b_matrices; ++mat)
    for (int64_t k = 0; k < K; ++k)
      for (int64_t n = 0; n < N; ++n)
        b_cols[static_cast<size_t>((mat * N + n) * K + k)] =
            b[static_cast<size_t>((mat * K + k) * N + n)] - b_zp[static_cast<size_t>(mat * N + n)];
  std::vector<int32_t> acc(p.a_index.size() * static_cast<size_t>(M * N));
  for (size_t i = 0; i < p.a_index.size(); ++i)
    int_gemm(M, N, K, a_rows.data() + p.a_index[i] * M * K, b_cols.data() + p.b_index[i] * N * K,
             acc.data() + static_cast<int64_t>(i) * M * N, threads);
  return acc;
}

void check_int8(const std::string& op, const Tensor& t, const char* what) {
  if (t.dtype() != DataType::kUInt8 && t.dtype() != DataType::kInt8)
    fail(ExitCode::kUnsupported, op + ": " + what + " must be uint8 or int8, got " + std::string(dtype_name(t.dtype())));
}

std::unique_ptr<OpKernel> make_matmul_integer(const NodeInfo&) {
  return make_kernel([](KernelIO& io) {
    const std::string op = "MatMulInteger";
    const Tensor& a = io.input(0);
    const Tensor& b = io.input(1);
    check_int8(op, a, "A");
    check_int8(op, b, "B");
    const MatMulPlan p = plan_matmul(a.shape(), b.shape(), op);
    const auto a_zp = expand_zero_points(op, "a_zero_point", io.has_input(2) ? &io.input(2) : nullptr, p.a_matrices, p.M);
    const auto b_zp = expand_zero_points(op, "b_zero_point", io.has_input(3) ? &io.input(3) : nullptr, p.b_matrices, p.N);
    const std::vector<int32_t> acc = integer_matmul(p, ints_of(a), a_zp, ints_of(b), b_zp, io.threads());
    io.set_output(0, Tensor::from_vector<int32_t>(p.out_shape, acc));
  });
}

// Per-tensor or per-column (of each B matrix) scales as a flat list indexed like b's zero points.
std::vector<float> expand_scales(const std::string& op, const Tensor& scale, int64_t matrices, int64_t dim) {
  const std::vector<float> v = floats_of(scale);
  const auto n = static_cast<int64_t>(v.size());
  if (n != 1 && n != dim && n != matrices * dim)
    fail(ExitCode::kInput, op + ": b_scale of shape " + shape_to_string(scale.shape()) + " matches neither the tensor nor its columns");
  std::vector<float> out(static_cast<size_t>(matrices * dim));
  for (int64_t i = 0; i < matrices * dim; ++i) out[static_cast<size_t>(i)] = v[static_cast<size_t>(n == 1 ? 0 : (n == dim ? i % dim : i))];
  return out;
}

std::unique_ptr<OpKernel> make_qlinear_matmul(const NodeInfo&) {
  return make_kernel([](KernelIO& io) {
    const std::string op = "QLinearMatMul";
    const Tensor& a = io.input(0);
    const Tensor& b = io.input(3);
    check_int8(op, a, "A");
    check_int8(op, b, "B");
    const MatMulPlan p = plan_matmul(a.shape(), b.shape(), op);
    const float a_scale = scalar_float(io.input(1), "QLinearMatMul: a_scale");
    const float y_scale = scalar_float(io.input(6), "QLinearMatMul: y_scale");
    const auto a_zp = expand_zero_points(op, "a_zero_point", &io.input(2), p.a_matrices, p.M);
    const auto b_zp = expand_zero_points(op, "b_zero_point", &io.input(5), p.b_matrices, p.N);
    const std::vector<float> b_scale = expand_scales(op, io.input(4), p.b_matrices, p.N);
    const Tensor& y_zp_t = io.input(7);
    const int32_t y_zp = scalar_int(y_zp_t, "QLinearMatMul: y_zero_point");
    check_int8(op, y_zp_t, "y_zero_point");
    const QuantRange range = type_range(y_zp_t.dtype());
    std::vector<int32_t> acc = integer_matmul(p, ints_of(a), a_zp, ints_of(b), b_zp, io.threads());
    const int64_t MN = p.M * p.N;
    for (size_t i = 0; i < acc.size(); ++i) {
      const int64_t batch = static_cast<int64_t>(i) / MN, n = static_cast<int64_t>(i) % p.N;
      const float multiplier = a_scale * b_scale[static_cast<size_t>(p.b_index[static_cast<size_t>(batch)] * p.N + n)] / y_scale;
      acc[i] = requantize(acc[i], multiplier, y_zp, range);
    }
    Tensor y(y_zp_t.dtype(), p.out_shape);
    store_ints(y, acc.data(), 0, y.numel());
    io.set_output(0, std::move(y));
  });
}

// A quantized to uint8 with DynamicQuantizeLinear's parameters over the whole tensor.
std::vector<int32_t> quantize_dynamic_uint8(const float* x, int64_t n, QuantParams& params) {
  float lo = 0, hi = 0;
  min_max(x, n, lo, hi);
  params = dynamic_uint8_params(lo, hi);
  std::vector<int32_t> q(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) q[static_cast<size_t>(i)] = quantize(x[i], params.scale, params.zero_point, {0, 255});
  return q;
}

std::unique_ptr<OpKernel> make_dynamic_quantize_matmul(const NodeInfo&) {
  return make_kernel([](KernelIO& io) {
    const std::string op = "DynamicQuantizeMatMul";
    const Tensor& a = io.input(0);
    const Tensor& b = io.input(1);
    if (a.dtype() != DataType::kFloat) fail(ExitCode::kUnsupported, op + ": A must be float32");
    check_int8(op, b, "B");
    const MatMulPlan p = plan_matmul(a.shape(), b.shape(), op);
    QuantParams ap;
    const std::vector<int32_t> qa = quantize_dynamic_uint8(a.data<float>(), a.numel(), ap);
    const std::vector<int32_t> a_zp(static_cast<size_t>(p.a_matrices * p.M), ap.zero_point);
    const auto b_zp = expand_zero_points(op, "b_zero_point", io.has_input(3) ? &io.input(3) : nullptr, p.b_matrices, p.N);
    const std::vector<float> b_scale = expand_scales(op, io.input(2), p.b_matrices, p.N);
    const Tensor* bias = io.has_input(4) ? &io.input(4) : nullptr;
    if (bias && bias->numel() != p.N) fail(ExitCode::kInput, op + ": bias must have N elements");
    const std::vector<int32_t> acc = integer_matmul(p, qa, a_zp, ints_of(b), b_zp, io.threads());
    Tensor y(DataType::kFloat, p.out_shape);
    float* ys = y.data<float>();
    const int64_t MN = p.M * p.N;
    for (size_t i = 0; i < acc.size(); ++i) {
      const int64_t batch = static_cast<int64_t>(i) / MN, n = static_cast<int64_t>(i) % p.N;
      const float scale = ap.scale * b_scale[static_cast<size_t>(p.b_index[static_cast<size_t>(batch)] * p.N + n)];
      float v = static_cast<float>(acc[i]) * scale;
      if (bias) v += bias->data<float>()[n];
      ys[i] = v;
    }
    io.set_output(0, std::move(y));
  });
}

// B of MatMulNBits ([N, k_blocks, blob] of `bits`-bit fields, low bits first) dequantized to
// a float [N, K] matrix; zero points are packed like B, or floats, or 2^(bits-1) by default.
std::vector<float> dequantize_nbits(const std::string& op, int64_t N, int64_t K, int64_t bits, int64_t block, const Tensor& b,
                                    const Tensor& scales, const Tensor* zp) {
  auto bad = [&](const std::string& why) { fail(ExitCode::kInput, op + ": " + why); };
  const int64_t k_blocks = (K + block - 1) / block;
  const int64_t blob = block * bits / 8;
  if (b.dtype() != DataType::kUInt8 || b.numel() != N * k_blocks * blob)
    bad("B must be uint8 [N, k_blocks, blob_size] = " + std::to_string(N * k_blocks * blob) + " bytes");
  if (scales.numel() != N * k_blocks) bad("scales must have N * k_blocks elements");
  const std::vector<float> s = floats_of(scales);
  const uint8_t* bq = b.data<uint8_t>();
  const bool packed_zp = zp && zp->dtype() == DataType::kUInt8;
  const int64_t zp_row_bytes = (k_blocks * bits + 7) / 8;
  if (packed_zp && zp->numel() != N * zp_row_bytes) bad("packed zero_points must have N * ceil(k_blocks * bits / 8) bytes");
  if (zp && !packed_zp && zp->numel() != N * k_blocks) bad("float zero_points must have N * k_blocks elements");
  const std::vector<float> zf = zp && !packed_zp ? floats_of(*zp) : std::vector<float>();
  const uint32_t mask = (1u << bits) - 1;
  auto field = [&](const uint8_t* bytes, int64_t index) {
    const int64_t bit = index * bits;
    return static_cast<int32_t>((bytes[bit / 8] >> (bit % 8)) & mask);
  };
  std::vector<float> w(static_cast<size_t>(N * K));
  for (int64_t n = 0; n < N; ++n)
    for (int64_t kb = 0; kb < k_blocks; ++kb) {
      const float scale = s[static_cast<size_t>(n * k_blocks + kb)];
      float zero = static_cast<float>(1 << (bits - 1));
      if (packed_zp) zero = static_cast<float>(field(zp->data<uint8_t>() + n * zp_row_bytes, kb));
      else if (zp) zero = zf[static_cast<size_t>(n * k_blocks + kb)];
      const uint8_t* blk = bq + (n * k_blocks + kb) * blob;
      for (int64_t e = 0; e < block && kb * block + e < K; ++e)
        w[static_cast<size_t>(n * K + kb * block + e)] = (static_cast<float>(field(blk, e)) - zero) * scale;
    }
  return w;
}

std::unique_ptr<OpKernel> make_matmul_nbits(const NodeInfo& info) {
  const int64_t K = info.required_int("K"), N = info.required_int("N");
  const int64_t bits = info.attr_int("bits", 4), block = info.required_int("block_size");
  if (bits != 2 && bits != 4 && bits != 8) info.unsupported("bits=" + std::to_string(bits) + ": onnxq runs 2-, 4- and 8-bit weights");
  if (block < 16 || (block & (block - 1)) != 0) info.invalid("block_size must be a power of 2 and >= 16");
  if (K <= 0 || N <= 0) info.invalid("K and N must be positive");
  if (info.has_input(4)) info.unsupported("the g_idx input (act-order group indices) is not supported by onnxq's executor");
  return make_kernel([=](KernelIO& io) {
    const std::string op = "MatMulNBits";
    const Tensor& a = io.input(0);
    if (a.rank() == 0 || a.shape().back() != K) fail(ExitCode::kInput, op + ": A's last dimension must be K = " + std::to_string(K));
    const std::vector<float> w =
        dequantize_nbits(op, N, K, bits, block, io.input(1), io.input(2), io.has_input(3) ? &io.input(3) : nullptr);
    const int64_t M = a.numel() / K;
    Shape out_shape = a.shape();
    out_shape.back() = N;
    std::vector<float> y(static_cast<size_t>(M * N));
    const std::vector<float> av = a.dtype() == DataType::kFloat ? std::vector<float>() : floats_of(a);
    const float* ap = a.dtype() == DataType::kFloat ? a.data<float>() : av.data();
    gemm_f32(false, true, M, N, K, 1.0f, ap, K, w.data(), K, 0.0f, y.data(), N, io.threads());
    if (io.has_input(5)) {
      const Tensor& bias = io.input(5);
      if (bias.numel() != N) fail(ExitCode::kInput, op + ": bias must have N elements");
      const std::vector<float> bv = floats_of(bias);
      for (int64_t i = 0; i < M * N; ++i) y[static_cast<size_t>(i)] += bv[static_cast<size_t>(i % N)];
    }
    Tensor out(a.dtype(), out_shape);
    for (int64_t i = 0; i < M * N; ++i) store_float(out, i, y[static_cast<size_t>(i)]);
    io.set_output(0, std::move(out));
  });
}

}  // namespace

void register_integer_matmul(KernelRegistry& registry) {
  registry.add("MatMulInteger", make_matmul_integer, 10);
  registry.add("QLinearMatMul", make_qlinear_matmul, 10);
  registry.add("DynamicQuantizeMatMul", make_dynamic_quantize_matmul, 1, 1, "com.microsoft");
  registry.add("MatMulNBits", make_matmul_nbits, 1, 1, "com.microsoft");
}

}  // namespace onnxq::exec

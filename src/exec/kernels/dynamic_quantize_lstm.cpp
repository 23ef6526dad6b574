// com.microsoft DynamicQuantizeLSTM: the LSTM with int8/uint8 W [dirs, input, 4H] and
// R [dirs, H, 4H] (already transposed), scales and zero points per direction or per gate row.
// As in ONNX Runtime, each product quantizes its float operand (all of X at once, then the
// hidden state of every step) to uint8 with DynamicQuantizeLinear's parameters, multiplies
// in int32 and scales the sums back to float.
#include <string>

#include "exec/kernel.hpp"
#include "exec/kernels/families.hpp"
#include "exec/kernels/int_gemm.hpp"
#include "exec/kernels/quant_common.hpp"
#include "exec/kernels/rnn_common.hpp"

namespace onnxq::exec {
namespace {

using namespace rnn;

class QuantizedProjection final : public Projection {
 public:
  // weight: [k, cols] bytes of one direction; scale and zero point per column.
  QuantizedProjection(const Tensor& weight, int64_t offset, int64_t k, int64_t cols, std::vector<float> scale,
                      const std::vector<int32_t>& zero_point)
      : k_(k), cols_(cols), scale_(std::move(scale)), bt_(static_cast<size_t>(k * cols)) {
    for (int64_t i = 0; i < k; ++i)
      for (int64_t j = 0; j < cols; ++j)
        bt_[static_cast<size_t>(j * k + i)] = quant::int_at(weight, offset + i * cols + j) - zero_point[static_cast<size_t>(j)];
  }

  void apply(const float* a, int64_t rows, float* c, bool accumulate, int threads) const override {
    float lo = 0, hi = 0;
    quant::min_max(a, rows * k_, lo, hi);
    const QuantParams p = quant::dynamic_uint8_params(lo, hi);
    std::vector<int32_t> qa(static_cast<size_t>(rows * k_));
    for (int64_t i = 0; i < rows * k_; ++i)
      qa[static_cast<size_t>(i)] = quant::quantize(a[i], p.scale, p.zero_point, {0, 255}) - p.zero_point;
    std::vector<int32_t> acc(static_cast<size_t>(rows * cols_));
    quant::int_gemm(rows, cols_, k_, qa.data(), bt_.data(), acc.data(), threads);
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t j = 0; j < cols_; ++j) {
        const float v = static_cast<float>(acc[static_cast<size_t>(r * cols_ + j)]) * (p.scale * scale_[static_cast<size_t>(j)]);
        c[r * cols_ + j] = accumulate ? c[r * cols_ + j] + v : v;
      }
  }

 private:
  int64_t k_, cols_;
  std::vector<float> scale_;
  std::vector<int32_t> bt_;
};

// One direction's scales or zero points ([dirs] or [dirs, cols]) expanded per column.
template <class T>
std::vector<T> direction_params(const std::string& what, const std::vector<T>& v, int64_t dirs, int64_t d, int64_t cols) {
  const auto n = static_cast<int64_t>(v.size());
  if (n == dirs) return std::vector<T>(static_cast<size_t>(cols), v[static_cast<size_t>(d)]);
  if (n == dirs * cols) return std::vector<T>(v.begin() + d * cols, v.begin() + (d + 1) * cols);
  fail(ExitCode::kInput, "DynamicQuantizeLSTM: " + what + " must have one value per direction or per gate row");
}

std::unique_ptr<OpKernel> make_dynamic_quantize_lstm(const NodeInfo& info) {
  const RnnAttrs attrs = parse_rnn_attrs(info, {"Sigmoid", "Tanh", "Tanh"});
  const bool input_forget = info.attr_int("input_forget", 0) != 0;
  if (attrs.layout != 0) info.unsupported("layout=1 is not part of DynamicQuantizeLSTM");
  return make_kernel([=](KernelIO& io) {
    const std::string op = "DynamicQuantizeLSTM";
    const Sequence x = read_sequence(op, io, attrs);
    const int64_t H = attrs.hidden, D = attrs.directions, G = 4 * H;
    const Tensor& w = io.input(1);
    const Tensor& r = io.input(2);
    for (const Tensor* t : {&w, &r})
      if (t->dtype() != DataType::kInt8 && t->dtype() != DataType::kUInt8)
        fail(ExitCode::kUnsupported, op + ": W and R must be int8 or uint8");
    if (w.shape() != Shape{D, x.input, G} || r.shape() != Shape{D, H, G})
      fail(ExitCode::kInput, op + ": W " + shape_to_string(w.shape()) + " and R " + shape_to_string(r.shape()) +
                                 " should be [dirs, input, 4H] and [dirs, H, 4H]");
    for (size_t i : {8u, 10u})
      if (!io.has_input(i)) fail(ExitCode::kInput, op + ": W_scale and R_scale are required");
    auto zero_points = [&](size_t i, const Tensor& scale) {
      return io.has_input(i) ? quant::ints_of(io.input(i)) : std::vector<int32_t>(static_cast<size_t>(scale.numel()), 0);
    };
    const std::vector<float> w_scale = quant::floats_of(io.input(8)), r_scale = quant::floats_of(io.input(10));
    const std::vector<int32_t> w_zp = zero_points(9, io.input(8)), r_zp = zero_points(11, io.input(10));
    LstmWeights weights;
    for (int64_t d = 0; d < D; ++d) {
      weights.w.push_back(std::make_unique<QuantizedProjection>(w, d * x.input * G, x.input, G,
                                                                direction_params("W_scale", w_scale, D, d, G),
                                                                direction_params("W_zero_point", w_zp, D, d, G)));
      weights.r.push_back(std::make_unique<QuantizedProjection>(r, d * H * G, H, G, direction_params("R_scale", r_scale, D, d, G),
                                                                direction_params("R_zero_point", r_zp, D, d, G)));
    }
    weights.bias = read_optional(op, io, 3, D * 8 * H, "B");
    weights.peepholes = read_optional(op, io, 7, D * 3 * H, "P");
    run_lstm(io, attrs, input_forget, x, weights);
  });
}

}  // namespace

void register_quant_lstm(KernelRegistry& registry) {
  registry.add("DynamicQuantizeLSTM", make_dynamic_quantize_lstm, 1, 1, "com.microsoft");
}

}  // namespace onnxq::exec

#include "debug/output_compare.hpp"

namespace onnxq::debug {

bool looks_like_class_scores(const Tensor& t) {
  return t.dtype() == DataType::kFloat && (t.rank() == 2 || t.rank() == 3) && t.shape().back() > 1;
}

bool made_like_class_scores(const GraphIndex& g, const std::string& output) {
  std::string name = output;
  for (int hops = 0; hops < 8; ++hops) {
    const int p = g.producer(name);
    if (p < 0) return false;
    const auto& n = g.node(p);
    if (!n.domain().empty() && n.domain() != "ai.onnx") return false;
    const std::string& op = n.op_type();
    if (op == "Softmax" || op == "LogSoftmax" || op == "Gemm" || op == "MatMul") return true;
    if (op == "Identity" || op == "Reshape" || op == "Flatten" || op == "Squeeze" || op == "Unsqueeze") {
      name = n.input(0);
    } else if (op == "Add" && n.input_size() == 2 && (g.constant(n.input(0)) || g.constant(n.input(1)))) {
      name = g.constant(n.input(0)) ? n.input(1) : n.input(0);  // logits plus a bias
    } else {
      return false;
    }
  }
  return false;
}

void OutputAccumulator::add(const Tensor& x, const Tensor& y) {
  if (x.dtype() != y.dtype() || x.shape() != y.shape())
    fail(ExitCode::kInput, "output '" + name + "': the float model gives " + std::string(dtype_name(x.dtype())) + " " +
                               shape_to_string(x.shape()) + ", the quantized model " +
                               std::string(dtype_name(y.dtype())) + " " + shape_to_string(y.shape()));
  if (x.dtype() != DataType::kFloat) {
    class_scores = false;
    return;
  }
  stats.add(x.data<float>(), y.data<float>(), x.numel());
  class_scores = class_scores && looks_like_class_scores(x);
  if (!class_scores) return;
  const int64_t classes = x.shape().back(), n = x.numel() / classes;
  for (int64_t r = 0; r < n; ++r) {
    const float* a = x.data<float>() + r * classes;
    const float* b = y.data<float>() + r * classes;
    int64_t ia = 0, ib = 0;
    for (int64_t c = 1; c < classes; ++c) {
      if (a[c] > a[ia]) ia = c;
      if (b[c] > b[ib]) ib = c;
    }
    top1_agree += ia == ib;
  }
  rows += n;
}

OutputError OutputAccumulator::result() const {
  OutputError e;
  e.name = name;
  e.sqnr_db = stats.sqnr_db();
  e.cosine = stats.cosine();
  e.max_abs_diff = stats.max_abs;
  e.class_scores = class_scores && rows > 0;
  e.rows = e.class_scores ? rows : 0;
  e.top1_agree = e.class_scores ? top1_agree : 0;
  return e;
}

}  // namespace onnxq::debug

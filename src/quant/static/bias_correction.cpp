#include "quant/static/bias_correction.hpp"

#include <algorithm>
#include <cmath>
#include <set>

#include "graph/graph_uses.hpp"
#include "core/parallel.hpp"
#include "onnxq/error.hpp"
#include "onnxq/weight_quant.hpp"
#include "quant/graph_editor.hpp"
#include "quant/node_filter.hpp"
#include "quant/static/weight_spec.hpp"

namespace onnxq {
namespace {

bool is_onnx(const onnx::NodeProto& n) { return n.domain().empty() || n.domain() == "ai.onnx"; }

// A float initializer of the main graph that no graph input overrides.
const onnx::TensorProto* constant_weight(const Model& model, const std::string& name) {
  for (const auto& i : model.graph().input())
    if (i.name() == name) return nullptr;
  const auto* t = model.find_initializer(name);
  return t && t->data_type() == onnx::TensorProto::FLOAT ? t : nullptr;
}

std::vector<int64_t> ints_or(const onnx::NodeProto& n, const std::string& name, std::vector<int64_t> fallback) {
  const auto* a = find_attr(n, name);
  if (!a || a->ints_size() == 0) return fallback;
  return {a->ints().begin(), a->ints().end()};
}

std::string string_attr(const onnx::NodeProto& n, const std::string& name) {
  const auto* a = find_attr(n, name);
  return a ? a->s() : std::string();
}

// The input indices along one spatial dim that kernel offset k reads over every output
// position: start, start + step, ... (`count` of them; padding positions left out).
struct Progression {
  int64_t start = 0, step = 1, count = 0;
};

Progression indices_read(int64_t in, int64_t k, int64_t kernel, int64_t stride, int64_t dilation, int64_t pad_begin,
                         int64_t pad_end) {
  const int64_t span = dilation * (kernel - 1) + 1;
  const int64_t out = in + pad_begin + pad_end >= span ? (in + pad_begin + pad_end - span) / stride + 1 : 0;
  const int64_t offset = k * dilation - pad_begin;  // index read by output 0
  // Outputs o with 0 <= o*stride + offset < in.
  const int64_t first = offset >= 0 ? 0 : (-offset + stride - 1) / stride;
  const int64_t last = std::min(out - 1, in - 1 - offset >= 0 ? (in - 1 - offset) / stride : -1);
  Progression p;
  p.step = stride;
  if (last >= first) {
    p.start = first * stride + offset;
    p.count = last - first + 1;
  }
  return p;
}

// Pads for one spatial dim as ONNX's auto_pad rules give them.
void resolve_pads(const std::string& auto_pad, int64_t in, int64_t kernel, int64_t stride, int64_t dilation,
                  int64_t& begin, int64_t& end) {
  if (auto_pad == "VALID") {
    begin = end = 0;
  } else if (auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER") {
    const int64_t out = (in + stride - 1) / stride;
    const int64_t total = std::max<int64_t>(0, (out - 1) * stride + dilation * (kernel - 1) + 1 - in);
    begin = auto_pad == "SAME_UPPER" ? total / 2 : total - total / 2;
    end = total - begin;
  }
}

// Positions (per sample) of a conv output, the product of the output extent of every spatial dim.
int64_t output_positions(const BiasCorrectionObserver::Layer& l, const Shape& in_spatial) {
  int64_t positions = 1;
  const size_t dims = l.kernel.size();
  for (size_t d = 0; d < dims; ++d) {
    int64_t pb = l.pads[d], pe = l.pads[d + dims];
    resolve_pads(l.auto_pad, in_spatial[d], l.kernel[d], l.strides[d], l.dilations[d], pb, pe);
    const int64_t span = l.dilations[d] * (l.kernel[d] - 1) + 1;
    const int64_t total = in_spatial[d] + pb + pe;
    positions *= total >= span ? (total - span) / l.strides[d] + 1 : 0;
  }
  return positions;
}

void observe_conv(BiasCorrectionObserver::Layer& l, const Tensor& x, int threads) {
  const size_t dims = l.kernel.size();
  if (x.rank() != dims + 2 || x.shape()[1] != l.channels) return;
  // A 1-D conv is a 2-D one over a height of 1.
  const int64_t n = x.shape()[0], c = x.shape()[1];
  const int64_t h = dims == 2 ? x.shape()[2] : 1, w = x.shape()[dims + 1];
  const int64_t kh = dims == 2 ? l.kernel[0] : 1, kw = l.kernel[dims - 1];
  std::vector<Progression> rows(static_cast<size_t>(kh)), cols(static_cast<size_t>(kw));
  if (dims == 1) {
    rows[0] = {0, 1, 1};
  } else {
    int64_t pb = l.pads[0], pe = l.pads[dims];
    resolve_pads(l.auto_pad, h, l.kernel[0], l.strides[0], l.dilations[0], pb, pe);
    for (int64_t k = 0; k < kh; ++k) rows[k] = indices_read(h, k, l.kernel[0], l.strides[0], l.dilations[0], pb, pe);
  }
  const size_t wd = dims - 1;
  int64_t pb = l.pads[wd], pe = l.pads[wd + dims];
  resolve_pads(l.auto_pad, w, l.kernel[wd], l.strides[wd], l.dilations[wd], pb, pe);
  for (int64_t k = 0; k < kw; ++k) cols[k] = indices_read(w, k, l.kernel[wd], l.strides[wd], l.dilations[wd], pb, pe);
  const bool unit_stride = l.strides[wd] == 1;

  Shape spatial(x.shape().begin() + 2, x.shape().end());
  l.sums.positions += n * output_positions(l, spatial);
  const float* data = x.data<float>();
  // Each channel's sums are computed by one task in a fixed order: the same for any thread count.
  constexpr int64_t kChannelsPerTask = 8;
  parallel_for((c + kChannelsPerTask - 1) / kChannelsPerTask, threads, [&](int64_t task) {
    std::vector<double> row_sums(static_cast<size_t>(h * kw));  // [row][kw]: Σ over the columns kw reads
    std::vector<double> prefix(static_cast<size_t>(w + 1));
    for (int64_t ch = task * kChannelsPerTask; ch < std::min(c, (task + 1) * kChannelsPerTask); ++ch) {
      double* out = l.sums.sums.data() + ch * kh * kw;
      for (int64_t b = 0; b < n; ++b) {
        const float* plane = data + (b * c + ch) * h * w;
        for (int64_t r = 0; r < h; ++r) {
          const float* row = plane + r * w;
          if (unit_stride) {
            for (int64_t q = 0; q < w; ++q) prefix[q + 1] = prefix[q] + row[q];
            for (int64_t k = 0; k < kw; ++k)
              row_sums[r * kw + k] = prefix[cols[k].start + cols[k].count] - prefix[cols[k].start];
          } else {
            for (int64_t k = 0; k < kw; ++k) {
              double s = 0.0;
              for (int64_t i = 0, q = cols[k].start; i < cols[k].count; ++i, q += cols[k].step) s += row[q];
              row_sums[r * kw + k] = s;
            }
          }
        }
        for (int64_t i = 0; i < kh; ++i)
          for (int64_t k = 0; k < kw; ++k) {
            double s = 0.0;
            for (int64_t j = 0, r = rows[i].start; j < rows[i].count; ++j, r += rows[i].step) s += row_sums[r * kw + k];
            out[i * kw + k] += s;
          }
      }
    }
  });
}

// Gemm's A [M, K], or MatMul's A [..., K]: every row is one output position.
void observe_rows(BiasCorrectionObserver::Layer& l, const Tensor& a) {
  if (a.rank() < 1 || a.shape().back() != l.channels) return;
  const int64_t k = l.channels, m = a.numel() / k;
  const float* x = a.data<float>();
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < k; ++j) l.sums.sums[static_cast<size_t>(j)] += x[i * k + j];
  l.sums.positions += m;
}

// The bias of `node` at input `slot` as `n` float values per channel (zeros when there is none),
// and whether the node may rewrite it in place (no one else reads it, and its shape stays).
// False when the bias is not a float constant.
bool current_bias(const Model& model, const std::map<std::string, int>& reads, const onnx::NodeProto& node, int slot,
                  int64_t n, Tensor& values, bool& in_place) {
  in_place = false;
  if (node.input_size() <= slot || node.input(slot).empty()) {
    values = Tensor(DataType::kFloat, {n});
    return true;
  }
  const auto* t = constant_weight(model, node.input(slot));
  if (!t) return false;
  values = model.tensor_data(*t);
  if (values.numel() == 1 && n > 1) {  // a broadcast scalar becomes one value per channel
    const float v = values.data<float>()[0];
    values = Tensor(DataType::kFloat, {n});
    std::fill(values.data<float>(), values.data<float>() + n, v);
    return true;
  }
  in_place = reads.at(node.input(slot)) == 1;
  return true;
}

}  // namespace

BiasCorrectionObserver::BiasCorrectionObserver(const Model& model, const StaticQuantOptions& options)
    : threads_(options.threads) {
  const auto& g = model.graph();
  for (int i = 0; i < g.node_size(); ++i) {
    const auto& n = g.node(i);
    if (!is_onnx(n) || n.input_size() < 2 || !passes_node_filters(n, options.op_types, options.nodes_include, options.nodes_exclude))
      continue;
    const auto* w = constant_weight(model, n.input(1));
    if (!w || constant_weight(model, n.input(0)) || model.find_initializer(n.input(0))) continue;
    Layer l;
    l.node = l.bias_node = i;
    if (n.op_type() == "Conv" && (w->dims_size() == 3 || w->dims_size() == 4)) {
      const size_t dims = static_cast<size_t>(w->dims_size() - 2);
      l.channels = w->dims(1) * attr_or(n, "group", 1);
      l.kernel.assign(w->dims().begin() + 2, w->dims().end());
      l.strides = ints_or(n, "strides", std::vector<int64_t>(dims, 1));
      l.dilations = ints_or(n, "dilations", std::vector<int64_t>(dims, 1));
      l.pads = ints_or(n, "pads", std::vector<int64_t>(2 * dims, 0));
      l.auto_pad = string_attr(n, "auto_pad");
      if (l.auto_pad == "NOTSET") l.auto_pad.clear();
      if (l.strides.size() != dims || l.dilations.size() != dims || l.pads.size() != 2 * dims) continue;
    } else if (n.op_type() == "Gemm" && w->dims_size() == 2 && attr_or(n, "transA", 0) == 0) {
      const auto* beta = find_attr(n, "beta");
      if (beta && beta->f() == 0.0f) continue;
      l.kind = Layer::Kind::kGemm;
      l.channels = attr_or(n, "transB", 0) ? w->dims(1) : w->dims(0);
    } else if (n.op_type() == "MatMul" && w->dims_size() == 2 && n.input_size() == 2) {
      // The Add of a bias must be the MatMul output's only reader, and the graph must not
      // output it.
      const std::string& y = n.output(0);
      int reader = -1, readers = 0;
      for (int j = 0; j < g.node_size(); ++j)
        for (const auto& in : g.node(j).input())
          if (in == y) {
            reader = j;
            ++readers;
          }
      bool graph_output = false;
      for (const auto& o : g.output()) graph_output |= o.name() == y;
      if (readers != 1 || graph_output) continue;
      const auto& add = g.node(reader);
      if (add.op_type() != "Add" || !is_onnx(add) || add.input_size() != 2) continue;
      const int slot = add.input(0) == y ? 1 : 0;
      const auto* b = constant_weight(model, add.input(slot));
      if (!b || add.input(1 - slot) != y || b->dims_size() == 0 || b->dims(b->dims_size() - 1) != w->dims(1)) continue;
      l.kind = Layer::Kind::kMatMul;
      l.channels = w->dims(0);
      l.bias_node = reader;
      l.bias_slot = slot;
    } else {
      continue;
    }
    // Allocated now, not at the first sample, where it would fragment the heap between the
    // executor's activations.
    int64_t per_channel = 1;
    for (int64_t k : l.kernel) per_channel *= k;
    l.sums.sums.assign(static_cast<size_t>(l.channels * per_channel), 0.0);
    by_input_[n.input(0)].push_back(std::move(l));
  }
}

std::vector<std::string> BiasCorrectionObserver::inputs() const {
  std::vector<std::string> out;
  for (const auto& [name, layers] : by_input_) out.push_back(name);
  return out;
}

void BiasCorrectionObserver::observe(const std::string& name, const Tensor& value) {
  auto it = by_input_.find(name);
  if (it == by_input_.end() || value.dtype() != DataType::kFloat || value.numel() == 0) return;
  for (Layer& l : it->second) {
    if (l.kind == Layer::Kind::kConv)
      observe_conv(l, value, threads_);
    else
      observe_rows(l, value);
  }
}

BiasCorrectionResult apply_bias_correction(Model& model, const BiasCorrectionObserver& observed,
                                           const StaticQuantOptions& options) {
  BiasCorrectionResult result;
  auto& graph = model.graph();
  NameSet names(graph);
  auto reads = read_counts(graph, true);  // kept current as biases are renamed below
  for (const auto& [input, layers] : observed.layers())
    for (const auto& l : layers) {
      if (l.sums.positions == 0) continue;
      using Kind = BiasCorrectionObserver::Layer::Kind;
      const auto& node = graph.node(l.node);
      const Tensor w = model.tensor_data(*model.find_initializer(node.input(1)));
      const bool trans_b = l.kind == Kind::kGemm && attr_or(node, "transB", 0);
      // The axes the quantizer's rules give: Conv 0, Gemm 0 with transB else 1, MatMul 1.
      const WeightQuantSpec spec = static_weight_spec(options, l.kind == Kind::kConv || trans_b ? 0 : 1);
      const Tensor wq = with_context("weight '" + node.input(1) + "'", [&] {
        return dequantize_weight(quantize_weight(w, spec, options.threads), spec);
      });
      const float* wf = w.data<float>();
      const float* wd = wq.data<float>();
      const double inv = 1.0 / static_cast<double>(l.sums.positions);
      const std::vector<double>& mean = l.sums.sums;  // scaled by inv below
      std::vector<double> shift;
      if (l.kind == Kind::kConv) {
        // W [C_out, C_in/group, k...]; group g reads input channels [g·C_in/group, (g+1)·C_in/group).
        const int64_t cout = w.shape()[0], cin_g = w.shape()[1];
        const int64_t taps = w.numel() / (cout * cin_g);
        const int64_t per_group = cout / std::max<int64_t>(1, l.channels / cin_g);
        shift.assign(static_cast<size_t>(cout), 0.0);
        for (int64_t c = 0; c < cout; ++c) {
          const int64_t first = (c / per_group) * cin_g;
          double s = 0.0;
          for (int64_t i = 0; i < cin_g * taps; ++i) {
            const int64_t e = c * cin_g * taps + i;
            s += (static_cast<double>(wf[e]) - wd[e]) * mean[static_cast<size_t>(first * taps + i)];
          }
          shift[static_cast<size_t>(c)] = s * inv;
        }
      } else {
        // Y = alpha·A·B' + beta·C with B' = B or Bᵀ, [K, N]; MatMul + Add is alpha = beta = 1.
        const int64_t k = l.channels, n = w.numel() / k;
        const auto* alpha = l.kind == Kind::kGemm ? find_attr(node, "alpha") : nullptr;
        const auto* beta = l.kind == Kind::kGemm ? find_attr(node, "beta") : nullptr;
        const double scale = (alpha ? alpha->f() : 1.0) / (beta ? beta->f() : 1.0);
        shift.assign(static_cast<size_t>(n), 0.0);
        for (int64_t j = 0; j < n; ++j) {
          double s = 0.0;
          for (int64_t i = 0; i < k; ++i) {
            const int64_t e = trans_b ? j * k + i : i * n + j;
            s += (static_cast<double>(wf[e]) - wd[e]) * mean[static_cast<size_t>(i)];
          }
          shift[static_cast<size_t>(j)] = s * inv * scale;
        }
      }
      const int64_t channels = static_cast<int64_t>(shift.size());
      auto& holder = *graph.mutable_node(l.bias_node);
      Tensor bias;
      bool in_place = false;
      // A Gemm's C may be [M, N]: every row takes the shift.
      if (!current_bias(model, reads, holder, l.bias_slot, channels, bias, in_place) || bias.shape().empty() ||
          bias.shape().back() != channels)
        continue;
      const std::string name =
          in_place ? holder.input(l.bias_slot)
                   : names.unique((node.name().empty() ? node.output(0) : node.name()) + "_bias_corrected");
      while (holder.input_size() <= l.bias_slot) holder.add_input("");
      if (!in_place) {
        if (const std::string& old = holder.input(l.bias_slot); !old.empty()) --reads[old];
        reads[name] = 1;
      }
      holder.set_input(l.bias_slot, name);
      Tensor shifted(DataType::kFloat, bias.shape());
      for (int64_t i = 0; i < bias.numel(); ++i)
        shifted.data<float>()[i] =
            static_cast<float>(bias.data<float>()[i] + shift[static_cast<size_t>(i % channels)]);
      model.set_initializer(name, shifted);
      ++result.layers;
      for (double s : shift) result.max_abs_shift = std::max(result.max_abs_shift, std::fabs(s));
    }
  return result;
}

}  // namespace onnxq

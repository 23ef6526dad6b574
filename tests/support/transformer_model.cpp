#include "support/transformer_model.hpp"

#include <cmath>
#include <limits>
#include <map>
#include <stdexcept>

#include "support/graph_builder.hpp"

namespace onnxq::bench {
namespace {

using test::GraphBuilder;

// Uniform in [-a, a] has standard deviation a / sqrt(3): 0.04 gives ~0.023, close to
// BERT's normal(0, 0.02) initialization of projections and embeddings.
constexpr float kWeightRange = 0.04f;
constexpr float kBiasRange = 0.02f;

// Names nodes and values the way torch.onnx.export does ("/encoder/layer.0/attention/self/
// query/MatMul" producing ".../MatMul_output_0") so reports read like real ones.
class EncoderBuilder {
 public:
  explicit EncoderBuilder(const TransformerConfig& c) : c_(c), g_(17) { g_.name("main_graph"); }

  GraphBuilder& graph() { return g_; }

  // Adds a node "<scope>/<op_type>[_k]" and returns its output, `output` when given.
  std::string op(const std::string& scope, const std::string& op_type, const std::vector<std::string>& inputs,
                 std::string output = "") {
    std::string name = scope + "/" + op_type;
    if (const int k = counts_[name]++; k > 0) name += "_" + std::to_string(k);
    if (output.empty()) output = name + "_output_0";
    g_.node(op_type, inputs, {output}, name);
    return output;
  }
  onnx::NodeProto& last() { return *g_.graph().mutable_node(g_.graph().node_size() - 1); }

  // A random float initializer, uniform in [center - range, center + range). Seeds follow
  // creation order, so a config always yields the same weights.
  std::string param(const std::string& name, Shape shape, float range, float center = 0.0f) {
    const uint32_t seed = c_.seed * 1000003u + next_seed_++;
    g_.initializer(name, test::random_tensor(std::move(shape), seed, center - range, center + range));
    return name;
  }
  std::string constant(const std::string& name, const Tensor& value) {
    g_.initializer(name, value);
    return name;
  }

  // nn.Linear on a 3-D input: MatMul with the transposed weight [in, out], then the bias
  // Add with the bias first, as torch writes it.
  std::string linear(const std::string& scope, const std::string& x, int64_t in, int64_t out) {
    const std::string p = param_prefix(scope);
    const std::string w = param(p + ".weight", {in, out}, kWeightRange);
    const std::string b = param(p + ".bias", {out}, kBiasRange);
    return op(scope, "Add", {b, op(scope, "MatMul", {x, w})});
  }

  std::string layer_norm(const std::string& scope, const std::string& x, std::string output = "") {
    const std::string p = param_prefix(scope);
    const std::string gamma = param(p + ".weight", {c_.hidden}, 0.1f, 1.0f);
    const std::string beta = param(p + ".bias", {c_.hidden}, kBiasRange);
    const std::string y = op(scope, "LayerNormalization", {x, gamma, beta}, std::move(output));
    test::attr_float(test::attr_int(last(), "axis", -1), "epsilon", 1e-12f);
    return y;
  }

 private:
  // "/encoder/layer.0/attention/self/query" -> "encoder.layer.0.attention.self.query"
  static std::string param_prefix(const std::string& scope) {
    std::string p = scope.substr(1);
    for (char& ch : p)
      if (ch == '/') ch = '.';
    return p;
  }

  const TransformerConfig& c_;
  GraphBuilder g_;
  std::map<std::string, int> counts_;
  uint32_t next_seed_ = 0;
};

Tensor scalar(float v) { return Tensor::from_vector<float>({}, {v}); }
Tensor shape_tensor(const std::vector<int64_t>& dims) {
  return Tensor::from_vector<int64_t>({static_cast<int64_t>(dims.size())}, dims);
}

}  // namespace

std::optional<TransformerConfig> transformer_preset(std::string_view name) {
  if (name == "tiny")
    return TransformerConfig{.layers = 2, .hidden = 128, .heads = 4, .vocab = 1000, .seq = 32};
  // google/bert_uncased_L-4_H-256_A-4: ~11M parameters, 45 MB.
  if (name == "bert-mini")
    return TransformerConfig{.layers = 4, .hidden = 256, .heads = 4, .vocab = 30522, .seq = 128};
  // bert-base-uncased: ~110M parameters, ~440 MB.
  if (name == "bert-base")
    return TransformerConfig{.layers = 12, .hidden = 768, .heads = 12, .vocab = 30522, .seq = 128};
  return std::nullopt;
}

std::vector<std::string> transformer_preset_names() { return {"tiny", "bert-mini", "bert-base"}; }

int64_t transformer_parameters(const TransformerConfig& c) {
  const int64_t h = c.hidden;
  const int64_t embeddings = (c.vocab + c.max_positions + c.type_vocab) * h + 2 * h;
  const int64_t layer = 4 * (h * h + h) + 2 * h + (h * 4 * h + 4 * h) + (4 * h * h + h) + 2 * h;
  return embeddings + c.layers * layer;
}

Model build_transformer(const TransformerConfig& c) {
  if (c.layers < 1 || c.hidden < 1 || c.heads < 1 || c.hidden % c.heads != 0)
    throw std::invalid_argument("transformer: hidden must be a positive multiple of heads");
  if (c.seq < 1 || c.seq > c.max_positions)
    throw std::invalid_argument("transformer: seq must be in [1, max_positions]");
  const int64_t h = c.hidden, head_dim = c.hidden / c.heads;

  EncoderBuilder b(c);
  GraphBuilder& g = b.graph();
  g.input("input_ids", DataType::kInt64, {1, c.seq});
  if (c.attention_mask) g.input("attention_mask", DataType::kInt64, {1, c.seq});
  if (c.token_type_ids) g.input("token_type_ids", DataType::kInt64, {1, c.seq});
  g.output("last_hidden_state", DataType::kFloat, {1, c.seq, h});

  // Embeddings. A static-shape export folds position_ids[:, :seq] (and the all-zero
  // token_type_ids buffer when that input is absent) into constants.
  const std::string word =
      b.op("/embeddings/word_embeddings", "Gather",
           {b.param("embeddings.word_embeddings.weight", {c.vocab, h}, kWeightRange), "input_ids"});
  const std::string type_table =
      b.param("embeddings.token_type_embeddings.weight", {c.type_vocab, h}, kWeightRange);
  const std::string types =
      c.token_type_ids ? std::string("token_type_ids")
                       : b.constant("embeddings.token_type_ids", Tensor(DataType::kInt64, {1, c.seq}));
  const std::string sum = b.op(
      "/embeddings", "Add", {word, b.op("/embeddings/token_type_embeddings", "Gather", {type_table, types})});
  const std::string pos_table =
      b.param("embeddings.position_embeddings.weight", {c.max_positions, h}, kWeightRange);
  const std::string positions = b.constant("embeddings.position_ids", test::iota_tensor<int64_t>({1, c.seq}));
  std::string hidden =
      b.layer_norm("/embeddings/LayerNorm",
                   b.op("/embeddings", "Add",
                        {sum, b.op("/embeddings/position_embeddings", "Gather", {pos_table, positions})}));

  // (1 - mask[:, None, None, :]) * finfo(float32).min, added to every layer's scores.
  std::string mask_bias;
  if (c.attention_mask) {
    const std::string m =
        b.op("", "Unsqueeze", {"attention_mask", b.constant("/Constant_mask_axes", shape_tensor({1, 2}))});
    const std::string mf = b.op("", "Cast", {m});
    test::attr_int(b.last(), "to", static_cast<int64_t>(DataType::kFloat));
    const std::string inv = b.op("", "Sub", {b.constant("/Constant_one", scalar(1.0f)), mf});
    mask_bias =
        b.op("", "Mul", {inv, b.constant("/Constant_min", scalar(std::numeric_limits<float>::lowest()))});
  }

  const std::string heads_shape =
      b.constant("/Constant_heads_shape", shape_tensor({1, c.seq, c.heads, head_dim}));
  const std::string merged_shape = b.constant("/Constant_merged_shape", shape_tensor({1, c.seq, h}));
  const std::string sqrt_head_dim = b.constant(
      "/Constant_sqrt_head_dim", scalar(static_cast<float>(std::sqrt(static_cast<double>(head_dim)))));
  const std::string sqrt2 = b.constant("/Constant_sqrt2", scalar(static_cast<float>(std::sqrt(2.0))));
  const std::string one = b.constant("/Constant_gelu_one", scalar(1.0f));
  const std::string half = b.constant("/Constant_gelu_half", scalar(0.5f));

  for (int64_t i = 0; i < c.layers; ++i) {
    const std::string layer = "/encoder/layer." + std::to_string(i);
    const std::string self = layer + "/attention/self";
    // [1, seq, H] -> [1, heads, seq, head_dim]; keys go straight to [1, heads, head_dim, seq]
    // because torch merges permute(0, 2, 1, 3) with transpose(-1, -2).
    auto split = [&](const std::string& x, std::vector<int64_t> perm) {
      const std::string t = b.op(self, "Transpose", {b.op(self, "Reshape", {x, heads_shape})});
      test::attr_ints(b.last(), "perm", perm);
      return t;
    };
    const std::string q = split(b.linear(self + "/query", hidden, h, h), {0, 2, 1, 3});
    const std::string k = split(b.linear(self + "/key", hidden, h, h), {0, 2, 3, 1});
    const std::string v = split(b.linear(self + "/value", hidden, h, h), {0, 2, 1, 3});
    std::string scores = b.op(self, "Div", {b.op(self, "MatMul", {q, k}), sqrt_head_dim});
    if (!mask_bias.empty()) scores = b.op(self, "Add", {scores, mask_bias});
    const std::string probs = b.op(self, "Softmax", {scores});
    test::attr_int(b.last(), "axis", -1);
    const std::string context = b.op(self, "Transpose", {b.op(self, "MatMul", {probs, v})});
    test::attr_ints(b.last(), "perm", {0, 2, 1, 3});
    const std::string merged = b.op(self, "Reshape", {context, merged_shape});

    const std::string attn_out = b.linear(layer + "/attention/output/dense", merged, h, h);
    const std::string attended = b.layer_norm(layer + "/attention/output/LayerNorm",
                                              b.op(layer + "/attention/output", "Add", {attn_out, hidden}));

    // Gelu as torch writes it below opset 20: x * 0.5 * (1 + erf(x / sqrt(2))).
    const std::string up = b.linear(layer + "/intermediate/dense", attended, h, 4 * h);
    const std::string act = layer + "/intermediate/intermediate_act_fn";
    const std::string erf = b.op(act, "Erf", {b.op(act, "Div", {up, sqrt2})});
    const std::string gelu = b.op(act, "Mul", {b.op(act, "Mul", {up, b.op(act, "Add", {erf, one})}), half});
    const std::string down = b.linear(layer + "/output/dense", gelu, 4 * h, h);
    const bool final_layer = i + 1 == c.layers;
    hidden = b.layer_norm(layer + "/output/LayerNorm", b.op(layer + "/output", "Add", {down, attended}),
                          final_layer ? "last_hidden_state" : "");
  }

  // Move the graph out instead of letting build() copy it: bert-base carries 440 MB.
  onnx::GraphProto graph;
  graph.Swap(&g.graph());
  onnx::ModelProto proto = g.build();
  proto.mutable_graph()->Swap(&graph);
  proto.set_producer_name("onnxq-bench");
  return Model(std::move(proto));
}

}  // namespace onnxq::bench

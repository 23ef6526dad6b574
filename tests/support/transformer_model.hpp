#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "onnxq/model.hpp"

namespace onnxq::bench {

// A BERT-style encoder, shaped the way torch.onnx.export writes Hugging Face's BertModel at
// opset 17: embedding Gathers, LayerNormalization, per layer Q/K/V/O MatMul + bias Add,
// attention with Reshape/Transpose for the heads, Gelu as its Erf decomposition, FFN.
struct TransformerConfig {
  int64_t layers = 2;
  int64_t hidden = 128;
  int64_t heads = 4;
  int64_t vocab = 1000;
  int64_t max_positions = 512;
  int64_t type_vocab = 2;
  int64_t seq = 128;  // declared length of the [1, seq] inputs
  // Extra inputs: attention_mask int64 [1, seq] (1 = token, 0 = padding) and
  // token_type_ids int64 [1, seq]; without the latter every token is of type 0.
  bool attention_mask = false;
  bool token_type_ids = false;
  uint32_t seed = 1;  // weights are a function of the config and this seed
};

// "tiny", "bert-mini", "bert-base"; nullopt for other names.
std::optional<TransformerConfig> transformer_preset(std::string_view name);
std::vector<std::string> transformer_preset_names();

// Float parameters the config gives (embeddings, projections, biases, LayerNorms).
int64_t transformer_parameters(const TransformerConfig& config);

// The model: inputs input_ids [, attention_mask][, token_type_ids], output
// last_hidden_state float [1, seq, hidden].
Model build_transformer(const TransformerConfig& config);

}  // namespace onnxq::bench

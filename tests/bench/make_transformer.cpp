// Writes a BERT-style encoder for benchmarks:
//
//   make_transformer PRESET OUT.onnx [--seq N] [--attention-mask] [--token-type-ids] [--seed N]
//
// PRESET is tiny, bert-mini or bert-base. Same arguments, same bytes.

#include <cstdlib>
#include <exception>
#include <iostream>
#include <string>

#include "support/transformer_model.hpp"
#include "onnxq/error.hpp"

namespace {

int usage() {
  std::cerr << "usage: make_transformer PRESET OUT.onnx [--seq N] [--attention-mask] [--token-type-ids] "
               "[--seed N]\npresets:";
  for (const auto& name : onnxq::bench::transformer_preset_names()) std::cerr << " " << name;
  std::cerr << "\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) return usage();
  auto config = onnxq::bench::transformer_preset(argv[1]);
  if (!config) return usage();
  const std::string out = argv[2];
  for (int i = 3; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--attention-mask") {
      config->attention_mask = true;
    } else if (arg == "--token-type-ids") {
      config->token_type_ids = true;
    } else if ((arg == "--seq" || arg == "--seed") && i + 1 < argc) {
      char* end = nullptr;
      const long long v = std::strtoll(argv[++i], &end, 10);
      if (*end != '\0' || v < 0) return usage();
      if (arg == "--seq")
        config->seq = v;
      else
        config->seed = static_cast<uint32_t>(v);
    } else {
      return usage();
    }
  }
  try {
    onnxq::Model model = onnxq::bench::build_transformer(*config);
    model.save(out);
    std::cerr << "make_transformer: " << argv[1] << ": " << config->layers << " layers, hidden "
              << config->hidden << ", " << config->heads << " heads, vocab " << config->vocab << ", seq "
              << config->seq << ", " << onnxq::bench::transformer_parameters(*config) << " parameters -> "
              << out << "\n";
  } catch (const onnxq::Error& e) {
    std::cerr << "make_transformer: " << e.what() << "\n";
    return static_cast<int>(e.code());
  } catch (const std::exception& e) {
    std::cerr << "make_transformer: " << e.what() << "\n";
    return 1;
  }
  return 0;
}

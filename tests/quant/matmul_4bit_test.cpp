#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <iostream>

#include "onnxq/checker.hpp"
#include "onnxq/quant_math.hpp"
#include "onnxq/quantize_dynamic.hpp"
#include "onnxq/tensor_proto.hpp"
#include "onnxq/weight_quant.hpp"
#include "support/cli_runner.hpp"
#include "support/graph_builder.hpp"
#include "support/ort_oracle.hpp"
#include "support/quant_checks.hpp"
#include "support/temp_dir.hpp"

namespace onnxq {
namespace {

using test::combo_name;
using test::count;
using test::op_counts;
using test::output_sqnr;

using test::GraphBuilder;

constexpr int64_t kRows = 5;  // rows of A
constexpr int64_t kK = 100;   // not a multiple of any block size
constexpr int64_t kN = 40;

// y = x @ w with w[K, N] constant.
Model one_matmul(int64_t k = kK, int64_t n = kN, int64_t opset = 17) {
  GraphBuilder g(opset);
  g.input("x", DataType::kFloat, {"M", k}).output("y", DataType::kFloat, {"M", n});
  g.initializer("w", test::random_tensor({k, n}, 11, -0.8f, 0.6f));
  g.node("MatMul", {"x", "w"}, {"y"}, "mm");
  return g.model();
}

const onnx::NodeProto* find_node(const Model& m, const std::string& op_type) {
  for (const auto& n : m.graph().node())
    if (n.op_type() == op_type) return &n;
  return nullptr;
}

int64_t attr(const onnx::NodeProto& n, const std::string& name, int64_t fallback = -999) {
  for (const auto& a : n.attribute())
    if (a.name() == name) return a.i();
  return fallback;
}

Shape dims(const Model& m, const std::string& initializer) {
  const auto* t = m.find_initializer(initializer);
  return t ? proto_shape(*t) : Shape{-1};
}

// Runs both models in ONNX Runtime on the same inputs.
struct Outputs {
  Tensor reference, quantized;
};
Outputs run_both(const Model& float_model, const Model& quant_model, const std::map<std::string, Tensor>& inputs,
                 const std::string& output = "y") {
  test::TempDir dir;
  Model f(float_model.proto()), q(quant_model.proto());
  f.save(dir / "f.onnx");
  q.save(dir / "q.onnx");
  return {test::run_in_onnxruntime(dir / "f.onnx", inputs).outputs.at(output),
          test::run_in_onnxruntime(dir / "q.onnx", inputs).outputs.at(output)};
}

// Output "y" with ONNX Runtime's graph optimizations off, so every node runs as written.
Tensor run_unoptimized(const Model& model, const std::map<std::string, Tensor>& inputs) {
  test::TempDir dir;
  Model(model.proto()).save(dir / "m.onnx");
  ::setenv("ONNXQ_ORT_OPT", "disabled", 1);
  try {
    Tensor y = test::run_in_onnxruntime(dir / "m.onnx", inputs).outputs.at("y");
    ::unsetenv("ONNXQ_ORT_OPT");
    return y;
  } catch (...) {
    ::unsetenv("ONNXQ_ORT_OPT");
    throw;
  }
}

double sqnr(const Tensor& a, const Tensor& b) { return sqnr_db(a.data<float>(), b.data<float>(), a.numel()); }

// x @ w computed in double, w given as float [K, N].
Tensor matmul(const Tensor& x, const Tensor& w) {
  const int64_t m = x.shape()[0], k = x.shape()[1], n = w.shape()[1];
  Tensor y(DataType::kFloat, {m, n});
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j) {
      double acc = 0;
      for (int64_t p = 0; p < k; ++p) acc += double{x.data<float>()[i * k + p]} * w.data<float>()[p * n + j];
      y.data<float>()[i * n + j] = static_cast<float>(acc);
    }
  return y;
}

std::string combo_name(Int4Format format, DataType type, int block) {
  return std::string(format == Int4Format::kQDQ ? "qdq" : "matmulnbits") + "/" + std::string(dtype_name(type)) +
         "/block " + std::to_string(block);
}

TEST(MatMul4Bit, EveryFormatTypeAndBlockSizeHasTheRightLayoutAndRunsInOnnxRuntime) {
  const Tensor x = test::random_tensor({kRows, kK}, 21);
  const Model f = one_matmul();
  for (Int4Format format : {Int4Format::kMatMulNBits, Int4Format::kQDQ})
    for (DataType type : {DataType::kInt4, DataType::kUInt4})
      for (int block : {16, 32, 64, 128}) {
        SCOPED_TRACE(combo_name(format, type, block));
        Model q = one_matmul();
        const auto report = quantize_dynamic(q, {.weight_type = type, .block_size = block, .int4_format = format});
        ASSERT_EQ(report.nodes_quantized, 1);
        ASSERT_EQ(report.tensors.size(), 1u);
        EXPECT_EQ(report.tensors[0].block_size, block);
        EXPECT_EQ(q.find_initializer("w"), nullptr) << "the float weight is gone";
        const int64_t blocks = (kK + block - 1) / block;
        const auto ops = op_counts(q);

        if (format == Int4Format::kMatMulNBits) {
          EXPECT_EQ(ops.count("MatMul"), 0u);
          const auto* mm = find_node(q, "MatMulNBits");
          ASSERT_NE(mm, nullptr);
          EXPECT_EQ(mm->domain(), "com.microsoft");
          EXPECT_EQ(attr(*mm, "K"), kK);
          EXPECT_EQ(attr(*mm, "N"), kN);
          EXPECT_EQ(attr(*mm, "bits"), 4);
          EXPECT_EQ(attr(*mm, "block_size"), block);
          EXPECT_EQ(attr(*mm, "accuracy_level"), -999) << "left unset";
          EXPECT_EQ(dims(q, "w_quantized"), (Shape{kN, blocks, block / 2}));
          EXPECT_EQ(q.find_initializer("w_quantized")->data_type(), onnx::TensorProto::UINT8);
          EXPECT_EQ(dims(q, "w_scale"), (Shape{kN * blocks}));
          if (type == DataType::kUInt4) {
            ASSERT_EQ(mm->input_size(), 4);
            EXPECT_EQ(dims(q, "w_zero_point"), (Shape{kN * ((blocks + 1) / 2)}));
            EXPECT_EQ(q.find_initializer("w_zero_point")->data_type(), onnx::TensorProto::UINT8);
          } else {
            EXPECT_EQ(mm->input_size(), 3) << "symmetric int4 relies on MatMulNBits' default zero point 8";
            EXPECT_EQ(q.find_initializer("w_zero_point"), nullptr);
          }
          EXPECT_EQ(q.opset_version("com.microsoft"), 1);
          EXPECT_EQ(q.opset_version(""), 17) << "MatMulNBits needs no newer default opset";
          EXPECT_NE(check_model(q).status, CheckResult::Status::kInvalid) << check_model(q).message;
        } else {
          EXPECT_EQ(ops.at("MatMul"), 1);
          const auto* dq = find_node(q, "DequantizeLinear");
          ASSERT_NE(dq, nullptr);
          EXPECT_EQ(attr(*dq, "axis"), 0);
          EXPECT_EQ(attr(*dq, "block_size"), block);
          EXPECT_EQ(dims(q, "w_quantized"), (Shape{kK, kN}));
          EXPECT_EQ(q.find_initializer("w_quantized")->data_type(), static_cast<int32_t>(type));
          EXPECT_EQ(dims(q, "w_scale"), (Shape{blocks, kN}));
          EXPECT_EQ(dims(q, "w_zero_point"), (Shape{blocks, kN}));
          EXPECT_EQ(q.find_initializer("w_zero_point")->data_type(), static_cast<int32_t>(type));
          EXPECT_EQ(q.opset_version(""), 21);
          EXPECT_EQ(q.proto().ir_version(), 10);
          EXPECT_EQ(check_model(q).status, CheckResult::Status::kUnchecked) << "libonnx 1.12 stops at opset 17";
        }

        // ONNX Runtime must compute x @ dequantize(w) (proving the packing), which is close to x @ w. With
        // all optimizations it fuses DequantizeLinear + MatMul into MatMulNBits at accuracy level 4 (A
        // quantized to int8), so the QDQ layout is proven exactly by the unfused kernels.
        const WeightQuantSpec spec{
            .type = type, .symmetric = type == DataType::kInt4, .axis = 0, .block_size = block};
        const Tensor w = f.tensor_data(*f.find_initializer("w"));
        const Tensor expected = matmul(x, dequantize_weight(quantize_weight(w, spec), spec));
        const Outputs out = run_both(f, q, {{"x", x}});
        const Tensor unfused = format == Int4Format::kQDQ ? run_unoptimized(q, {{"x", x}}) : out.quantized;
        const double exact = sqnr(expected, unfused);
        const double accuracy = sqnr(out.reference, out.quantized);
        EXPECT_GT(exact, 80.0) << "ONNX Runtime does not read the weights as written";
        EXPECT_GT(accuracy, 20.0);
        std::cout << "  " << combo_name(format, type, block) << ": output SQNR " << accuracy
                  << " dB vs float (weight SQNR " << report.tensors[0].sqnr_db << " dB), " << exact
                  << " dB vs x @ dequantized w\n";
      }
}

TEST(MatMul4Bit, AWeightDominatedModelShrinksToAtMost017OfItsSize) {
  // Four chained 512x512 MatMuls: 4 MiB of float weights.
  GraphBuilder g(17);
  g.input("x", DataType::kFloat, {"M", 512}).output("y", DataType::kFloat, {"M", 512});
  std::string prev = "x";
  for (int i = 0; i < 4; ++i) {
    const std::string w = "w" + std::to_string(i), out = i == 3 ? "y" : "h" + std::to_string(i);
    g.initializer(w, test::random_tensor({512, 512}, 30 + i, -0.1f, 0.1f));
    g.node("MatMul", {prev, w}, {out}, "mm" + std::to_string(i));
    prev = out;
  }
  test::TempDir dir;
  g.model().save(dir / "f.onnx");
  const Tensor x = test::random_tensor({2, 512}, 40);
  const Tensor reference = test::run_in_onnxruntime(dir / "f.onnx", {{"x", x}}).outputs.at("y");
  for (Int4Format format : {Int4Format::kMatMulNBits, Int4Format::kQDQ}) {
    SCOPED_TRACE(format == Int4Format::kQDQ ? "qdq" : "matmulnbits");
    const auto out = dir / (format == Int4Format::kQDQ ? "qdq.onnx" : "nbits.onnx");
    const auto report = quantize_dynamic_file(
        dir / "f.onnx", out, {.weight_type = DataType::kInt4, .block_size = 32, .int4_format = format});
    const double ratio =
        static_cast<double>(report.file_bytes_after) / static_cast<double>(report.file_bytes_before);
    EXPECT_EQ(report.file_bytes_after, std::filesystem::file_size(out));
    EXPECT_LE(ratio, 0.17);
    const Tensor y = test::run_in_onnxruntime(out, {{"x", x}}).outputs.at("y");
    const double accuracy = sqnr(reference, y);
    EXPECT_GT(accuracy, 15.0);
    std::cout << "  " << (format == Int4Format::kQDQ ? "qdq" : "matmulnbits") << " int4 block 32: "
              << report.file_bytes_before << " -> " << report.file_bytes_after << " bytes (" << ratio
              << "x), output SQNR after 4 layers " << accuracy << " dB\n";
  }
}

TEST(MatMul4Bit, ASharedWeightIsPackedOnce) {
  for (Int4Format format : {Int4Format::kMatMulNBits, Int4Format::kQDQ}) {
    GraphBuilder g(17);
    g.input("a", DataType::kFloat, {2, 64}).input("b", DataType::kFloat, {2, 64});
    g.output("ya", DataType::kFloat, {2, 8}).output("yb", DataType::kFloat, {2, 8});
    g.initializer("w", test::random_tensor({64, 8}, 4));
    g.node("MatMul", {"a", "w"}, {"ya"}, "mma");
    g.node("MatMul", {"b", "w"}, {"yb"}, "mmb");
    Model m = g.model();
    const auto report = quantize_dynamic(m, {.weight_type = DataType::kUInt4, .int4_format = format});
    EXPECT_EQ(report.nodes_quantized, 2);
    EXPECT_EQ(report.tensors.size(), 1u);
    EXPECT_EQ(m.graph().initializer_size(), 3);  // values, scale, zero point
  }
}

TEST(MatMul4Bit, QuantizingItsOwnOutputChangesNothing) {
  for (Int4Format format : {Int4Format::kMatMulNBits, Int4Format::kQDQ}) {
    Model m = one_matmul();
    const DynamicQuantOptions options{.weight_type = DataType::kInt4, .int4_format = format};
    quantize_dynamic(m, options);
    test::expect_requantizing_changes_nothing(m, options);
  }
}

TEST(MatMul4Bit, AccuracyLevelIsWrittenToMatMulNBitsAndRuns) {
  const Model f = one_matmul(128, 32);
  Model q = one_matmul(128, 32);
  quantize_dynamic(q, {.weight_type = DataType::kInt4, .accuracy_level = 4});
  ASSERT_NE(find_node(q, "MatMulNBits"), nullptr);
  EXPECT_EQ(attr(*find_node(q, "MatMulNBits"), "accuracy_level"), 4);
  const Outputs out = run_both(f, q, {{"x", test::random_tensor({kRows, 128}, 22)}});
  const double accuracy = sqnr(out.reference, out.quantized);
  EXPECT_GT(accuracy, 18.0);  // level 4 also quantizes A to int8 per block
  std::cout << "  accuracy_level 4: output SQNR " << accuracy << " dB\n";
}

TEST(MatMul4Bit, OptionsThatDoNotFitFourBitWeightsAreUsageErrors) {
  auto code = [](const DynamicQuantOptions& options) {
    Model m = one_matmul();
    try {
      quantize_dynamic(m, options);
    } catch (const Error& e) {
      return e.code();
    }
    return ExitCode::kOk;
  };
  EXPECT_EQ(code({.weight_type = DataType::kInt4, .block_size = 24}), ExitCode::kUsage);
  EXPECT_EQ(code({.weight_type = DataType::kInt4, .block_size = 256}), ExitCode::kUsage);
  EXPECT_EQ(code({.weight_type = DataType::kInt4, .per_channel = true}), ExitCode::kUsage);
  EXPECT_EQ(code({.weight_type = DataType::kUInt4, .reduce_range = true}), ExitCode::kUsage);
  EXPECT_EQ(code({.weight_type = DataType::kInt4, .int4_format = Int4Format::kQDQ, .accuracy_level = 1}),
            ExitCode::kUsage);
  EXPECT_EQ(code({.weight_type = DataType::kInt4, .accuracy_level = 5}), ExitCode::kUsage);
  EXPECT_EQ(code({.accuracy_level = 4}), ExitCode::kUsage) << "int8 weights have no accuracy level";
  EXPECT_EQ(code({.weight_type = DataType::kInt16}), ExitCode::kUsage);
  EXPECT_EQ(code({.weight_type = DataType::kUInt4, .block_size = 128}), ExitCode::kOk);
}

TEST(MatMul4Bit, EmbeddingTablesBecomeInt8PerRowBesideFourBitMatMuls) {
  // ids -> Gather(table) -> MatMul(w): a token embedding feeding a projection.
  GraphBuilder g(17);
  g.input("ids", DataType::kInt64, {2, 3}).output("y", DataType::kFloat, {2, 3, 16});
  g.initializer("table", test::random_tensor({50, 64}, 15));
  g.initializer("w", test::random_tensor({64, 16}, 16));
  g.node("Gather", {"table", "ids"}, {"emb"}, "embed");
  g.node("MatMul", {"emb", "w"}, {"y"}, "proj");
  const Model f = g.model();
  const Tensor ids = Tensor::from_vector<int64_t>({2, 3}, {0, 7, 49, 3, 3, 21});
  for (Int4Format format : {Int4Format::kMatMulNBits, Int4Format::kQDQ}) {
    SCOPED_TRACE(format == Int4Format::kQDQ ? "qdq" : "matmulnbits");
    Model q = g.model();
    const auto report = quantize_dynamic(q, {.weight_type = DataType::kInt4, .int4_format = format});
    EXPECT_EQ(report.nodes_quantized, 2);
    ASSERT_NE(q.find_initializer("table_quantized"), nullptr);
    EXPECT_EQ(q.find_initializer("table_quantized")->data_type(), onnx::TensorProto::INT8);
    EXPECT_EQ(dims(q, "table_scale"), (Shape{50})) << "one scale per row";
    EXPECT_EQ(op_counts(q).count("MatMulNBits"), format == Int4Format::kMatMulNBits ? 1u : 0u);
    const Outputs out = run_both(f, q, {{"ids", ids}});
    const double accuracy = sqnr(out.reference, out.quantized);
    EXPECT_GT(accuracy, 20.0);
    std::cout << "  embedding int8 + MatMul int4 (" << (format == Int4Format::kQDQ ? "qdq" : "matmulnbits")
              << "): output SQNR " << accuracy << " dB\n";
  }
}

// x -> ReduceMean(axes attribute), Split (no split input), MatMul: opset-13 forms that opset 18 changed.
Model opset13_model() {
  GraphBuilder g(13);
  g.input("x", DataType::kFloat, {3, 64});
  g.output("y", DataType::kFloat, {3, 16}).output("mean", DataType::kFloat, {3, 1});
  g.output("left", DataType::kFloat, {3, 32}).output("right", DataType::kFloat, {3, 32});
  g.initializer("w", test::random_tensor({64, 16}, 12));
  g.node("MatMul", {"x", "w"}, {"y"}, "mm");
  test::attr_int(test::attr_ints(g.node("ReduceMean", {"x"}, {"mean"}, "reduce"), "axes", {1}), "keepdims", 1);
  test::attr_int(g.node("Split", {"x"}, {"left", "right"}, "split"), "axis", 1);
  return g.model();
}

TEST(MatMul4Bit, RaisingToOpset21ConvertsReduceMeanAxesAndSplitAndOnnxRuntimeAgrees) {
  const Model f = opset13_model();
  Model q = opset13_model();
  quantize_dynamic(q, {.weight_type = DataType::kInt4, .int4_format = Int4Format::kQDQ});
  EXPECT_EQ(q.opset_version(""), 21);
  EXPECT_EQ(q.proto().ir_version(), 10);
  const auto* reduce = find_node(q, "ReduceMean");
  ASSERT_NE(reduce, nullptr);
  ASSERT_EQ(reduce->input_size(), 2) << "axes moved from attribute to input";
  EXPECT_EQ(attr(*reduce, "axes"), -999);
  const Tensor axes = tensor_from_proto(*q.find_initializer(reduce->input(1)));
  EXPECT_TRUE(axes.equals(Tensor::from_vector<int64_t>({1}, {1})));
  EXPECT_EQ(attr(*find_node(q, "Split"), "num_outputs"), 2);

  test::TempDir dir;
  Model(f.proto()).save(dir / "f.onnx");
  q.save(dir / "q.onnx");
  const std::map<std::string, Tensor> inputs = {{"x", test::random_tensor({3, 64}, 13)}};
  const auto a = test::run_in_onnxruntime(dir / "f.onnx", inputs);
  const auto b = test::run_in_onnxruntime(dir / "q.onnx", inputs);
  for (const char* name : {"mean", "left", "right"})
    EXPECT_TRUE(a.outputs.at(name).equals(b.outputs.at(name))) << name;
  EXPECT_GT(sqnr(a.outputs.at("y"), b.outputs.at("y")), 18.0);
}

TEST(MatMul4Bit, AnOpThatChangedMeaningBeforeOpset21BlocksTheQdqFormatWithAnErrorNamingIt) {
  GraphBuilder g(17);
  g.input("x", DataType::kFloat, {2, 64}).input("signal", DataType::kFloat, {1, 16, 1});
  g.output("y", DataType::kFloat, {2, 8}).output("spectrum", DataType::kFloat);
  g.initializer("w", test::random_tensor({64, 8}, 14));
  g.node("MatMul", {"x", "w"}, {"y"}, "mm");
  g.node("DFT", {"signal"}, {"spectrum"}, "dft");  // DFT-20 turned the axis attribute into an input
  Model m = g.model();
  try {
    quantize_dynamic(m, {.weight_type = DataType::kInt4, .int4_format = Int4Format::kQDQ});
    FAIL() << "expected kUnsupported";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::kUnsupported);
    EXPECT_NE(std::string(e.what()).find("DFT"), std::string::npos) << e.what();
  }
  EXPECT_EQ(m.opset_version(""), 17) << "the model is left as it was";
  EXPECT_NE(m.find_initializer("w"), nullptr);
  // MatMulNBits does not need opset 21.
  EXPECT_EQ(quantize_dynamic(m, {.weight_type = DataType::kInt4}).nodes_quantized, 1);
}

TEST(MatMul4Bit, TheCliTakesTheFourBitFlags) {
  test::TempDir dir;
  one_matmul().save(dir / "f.onnx");
  const std::string in = (dir / "f.onnx").string();
  const auto nbits = test::run_cli({"quantize-dynamic", in, "-o", (dir / "n.onnx").string(), "--weight-type", "int4",
                                    "--block-size", "32", "--accuracy-level", "4"});
  ASSERT_EQ(nbits.exit_code, 0) << nbits.err;
  const Model n = Model::load(dir / "n.onnx");
  ASSERT_NE(find_node(n, "MatMulNBits"), nullptr);
  EXPECT_EQ(attr(*find_node(n, "MatMulNBits"), "block_size"), 32);
  EXPECT_EQ(attr(*find_node(n, "MatMulNBits"), "accuracy_level"), 4);

  const auto qdq = test::run_cli({"quantize-dynamic", in, "-o", (dir / "q.onnx").string(), "--weight-type", "uint4",
                                  "--block-size", "64", "--int4-format", "qdq"});
  ASSERT_EQ(qdq.exit_code, 0) << qdq.err;
  const Model q = Model::load(dir / "q.onnx");
  EXPECT_EQ(q.opset_version(""), 21);
  EXPECT_EQ(attr(*find_node(q, "DequantizeLinear"), "block_size"), 64);
  EXPECT_EQ(q.find_initializer("w_quantized")->data_type(), static_cast<int32_t>(DataType::kUInt4));

  using Args = std::vector<std::string>;
  for (const Args& bad : {Args{"--weight-type", "int4", "--block-size", "24"},
                          Args{"--weight-type", "int4", "--int4-format", "gptq"},
                          Args{"--weight-type", "int4", "--accuracy-level", "7"},
                          Args{"--weight-type", "int4", "--per-channel"}, Args{"--weight-type", "int3"}}) {
    Args args = {"quantize-dynamic", in, "-o", (dir / "bad.onnx").string()};
    args.insert(args.end(), bad.begin(), bad.end());
    const auto r = test::run_cli(args);
    EXPECT_EQ(r.exit_code, 2) << bad.back() << ": " << r.err;
  }
  EXPECT_FALSE(std::filesystem::exists(dir / "bad.onnx"));
}

}  // namespace
}  // namespace onnxq

#include "core/spill_file.hpp"
#include "quant/dynamic/matmul_4bit.hpp"

namespace onnxq {
namespace {

TEST(MatMul4Bit, PackingPutsEachColumnsBlocksTogetherTheSameInMemoryInASpillFileAndForAnyThreadCount) {
  // K = 37 rows: two blocks of 32, the second padded with the zero point; N = 131 columns: three tiles.
  Tensor w(DataType::kFloat, {37, 131});
  for (int64_t i = 0; i < w.numel(); ++i) w.data<float>()[i] = std::sin(static_cast<float>(i) * 0.7f) * (1 + i % 5);
  for (const bool is_signed : {true, false}) {
    const WeightQuantSpec spec{.type = is_signed ? DataType::kInt4 : DataType::kUInt4, .symmetric = is_signed, .axis = 0,
                               .block_size = 32};
    const QuantizedWeight q = quantize_weight(w, spec);
    const QuantizedWeight one = pack_matmul_nbits(q, 32);
    ASSERT_EQ(one.values.shape(), (Shape{131, 2, 16}));
    const auto* packed = one.values.data<uint8_t>();
    for (int64_t col = 0; col < 131; ++col)
      for (int64_t row = 0; row < 64; ++row) {
        const int64_t b = row / 32, j = row % 32;
        const int nibble = (packed[(col * 2 + b) * 16 + j / 2] >> (4 * (j % 2))) & 0xf;
        const int32_t zp = read_quantized(q.zero_point, b * 131 + col);
        const int32_t expected = (row < 37 ? read_quantized(q.values, row * 131 + col) : zp) + (is_signed ? 8 : 0);
        ASSERT_EQ(nibble, expected) << "column " << col << " row " << row;
      }
    auto spill = SpillFile::create();
    ASSERT_TRUE(spill);
    for (int threads : {2, 3}) {
      const QuantizedWeight many = pack_matmul_nbits(q, 32, threads, spill.get());
      EXPECT_TRUE(many.values.equals(one.values)) << threads;
      EXPECT_TRUE(many.scale.equals(one.scale)) << threads;
      EXPECT_EQ(many.zero_point.defined(), !is_signed);
      if (!is_signed) {
        EXPECT_TRUE(many.zero_point.equals(one.zero_point));
      }
    }
  }
}

}  // namespace
}  // namespace onnxq

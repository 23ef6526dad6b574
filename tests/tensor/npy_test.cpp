#include "onnxq/npy.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <thread>
#include <vector>

namespace onnxq {
namespace {

namespace fs = std::filesystem;

// A fresh directory per test, removed when the test ends however it ends.
class TempDir {
 public:
  TempDir() {
    static std::atomic<int> counter{0};
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    path_ = fs::temp_directory_path() /
            ("onnxq_npy_" + std::string(info ? info->name() : "test") + "_" +
             std::to_string(::getpid()) + "_" + std::to_string(counter++));
    fs::remove_all(path_);
    fs::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  fs::path operator/(const std::string& name) const { return path_ / name; }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

void write_file(const fs::path& path, std::string_view bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  ASSERT_TRUE(out.good()) << path;
}

// A .npy file around a header dict, padded the way numpy pads it.
std::string npy_file(std::string_view dict, std::string_view data, int major = 1) {
  const size_t preamble = major == 1 ? 10 : 12;
  std::string header(dict);
  while ((preamble + header.size() + 1) % 64 != 0) header += ' ';
  header += '\n';
  std::string out = "\x93NUMPY";
  out += static_cast<char>(major);
  out += '\0';
  const size_t len_bytes = major == 1 ? 2 : 4;
  for (size_t i = 0; i < len_bytes; ++i)
    out += static_cast<char>((header.size() >> (8 * i)) & 0xff);
  return out + header + std::string(data);
}

std::string float_bytes(const std::vector<float>& values) {
  return {reinterpret_cast<const char*>(values.data()), values.size() * sizeof(float)};
}

// The error `fn` throws; records a failure if it throws none.
Error error_from(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e;
  }
  ADD_FAILURE() << "expected an onnxq::Error";
  return Error(ExitCode::kOk, "");
}

::testing::AssertionResult Contains(std::string_view text, std::string_view part) {
  if (text.find(part) != std::string_view::npos) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "'" << text << "' does not contain '" << part << "'";
}

// A tensor of `dtype` whose bytes all differ, so a swapped or dropped byte shows.
Tensor patterned(DataType dtype, Shape shape) {
  Tensor t(dtype, std::move(shape));
  auto* p = reinterpret_cast<unsigned char*>(t.raw_data());
  for (size_t i = 0; i < t.nbytes(); ++i)
    p[i] = dtype == DataType::kBool ? static_cast<unsigned char>(i % 3 == 0)
                                    : static_cast<unsigned char>(i * 7 + 1);
  return t;
}

const std::vector<std::pair<DataType, std::string>> kNumpyTypes = {
    {DataType::kFloat, "<f4"},  {DataType::kDouble, "<f8"}, {DataType::kFloat16, "<f2"},
    {DataType::kInt8, "|i1"},   {DataType::kUInt8, "|u1"},  {DataType::kInt16, "<i2"},
    {DataType::kUInt16, "<u2"}, {DataType::kInt32, "<i4"},  {DataType::kUInt32, "<u4"},
    {DataType::kInt64, "<i8"},  {DataType::kUInt64, "<u8"}, {DataType::kBool, "|b1"},
};

TEST(Npy, RoundTripsEveryNumpyType) {
  TempDir dir;
  for (const auto& [dtype, descr] : kNumpyTypes) {
    SCOPED_TRACE(descr);
    const Tensor t = patterned(dtype, {2, 3, 4});
    const std::string bytes = npy_bytes(t);
    EXPECT_TRUE(Contains(bytes, "'descr': '" + descr + "'"));
    EXPECT_TRUE(parse_npy(bytes, "mem.npy").equals(t));

    const fs::path path = dir / (std::string(dtype_name(dtype)) + ".npy");
    write_npy(path, t);
    EXPECT_TRUE(read_npy(path).equals(t));
  }
}

TEST(Npy, RoundTripsScalarsAndZeroSizeShapes) {
  TempDir dir;
  for (const Shape& shape : std::vector<Shape>{{}, {0}, {3, 0, 2}, {1}, {1, 1, 5}}) {
    for (DataType dtype : {DataType::kFloat, DataType::kInt8, DataType::kBool}) {
      SCOPED_TRACE(shape_to_string(shape) + " " + std::string(dtype_name(dtype)));
      const Tensor t = patterned(dtype, shape);
      const Tensor parsed = parse_npy(npy_bytes(t), "mem.npy");
      EXPECT_TRUE(parsed.equals(t));
      EXPECT_EQ(parsed.shape(), shape);
      write_npy(dir / "t.npy", t);
      EXPECT_TRUE(read_npy(dir / "t.npy").equals(t));
    }
  }
}

TEST(Npy, WritesTheSameBytesAsNumpyForAFloat32Matrix) {
  // np.save of np.arange(6, dtype=np.float32).reshape(2, 3): a 118-byte header so the
  // data starts at offset 128.
  const std::string dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }";
  std::string expected = std::string("\x93NUMPY\x01\x00", 8) + "\x76" + std::string(1, '\0');
  expected += dict + std::string(118 - dict.size() - 1, ' ') + "\n";
  ASSERT_EQ(expected.size(), 128u);
  const std::vector<float> values = {0, 1, 2, 3, 4, 5};
  expected += float_bytes(values);

  const Tensor t = Tensor::from_vector<float>({2, 3}, values);
  EXPECT_EQ(npy_bytes(t), expected);

  TempDir dir;
  write_npy(dir / "a.npy", t);
  std::ifstream in(dir / "a.npy", std::ios::binary);
  const std::string on_disk((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(on_disk, expected);
}

TEST(Npy, FormatsShapesLikeNumpyAndAlignsTheData) {
  const std::vector<std::pair<Shape, std::string>> cases = {
      {{}, "'shape': ()"},
      {{3}, "'shape': (3,)"},
      {{2, 3}, "'shape': (2, 3)"},
      {{1, 3, 224, 224}, "'shape': (1, 3, 224, 224)"},
  };
  for (const auto& [shape, text] : cases) {
    const Tensor t(DataType::kUInt8, shape);
    const std::string bytes = npy_bytes(t);
    EXPECT_TRUE(Contains(bytes, text));
    const size_t header_len =
        static_cast<unsigned char>(bytes[8]) | static_cast<unsigned char>(bytes[9]) << 8;
    EXPECT_EQ((10 + header_len) % 64, 0u) << text;
    EXPECT_EQ(bytes[10 + header_len - 1], '\n') << text;
    EXPECT_EQ(bytes.size(), 10 + header_len + t.nbytes()) << text;
  }
}

TEST(Npy, ReadsVersion2And3Headers) {
  const std::vector<float> values = {1.5f, -2.0f, 3.25f};
  for (int major : {2, 3}) {
    SCOPED_TRACE(major);
    const std::string file = npy_file("{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }",
                                      float_bytes(values), major);
    ASSERT_EQ(file[6], static_cast<char>(major));
    const Tensor t = parse_npy(file, "v2.npy");
    EXPECT_TRUE(t.equals(Tensor::from_vector<float>({3}, values)));
  }
}

TEST(Npy, ReadsHeadersInAnyPythonLiteralSpelling) {
  const std::vector<float> values = {1, 2, 3, 4, 5, 6};
  const std::vector<std::string> dicts = {
      "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }",
      "{\"shape\":(2,3),\"fortran_order\":False,\"descr\":\"<f4\"}",
      "  {  'descr' :'<f4' ,\n 'fortran_order':False,'shape':( 2 , 3 , ) ,}  ",
      "{'descr': '=f4', 'fortran_order': False, 'shape': (2L, 3L)}",
      "{'descr': 'f4', 'fortran_order': False, 'shape': [2, 3]}",
      "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), 'extra': None}",
  };
  for (const std::string& dict : dicts) {
    SCOPED_TRACE(dict);
    const Tensor t = parse_npy(npy_file(dict, float_bytes(values)), "x.npy");
    EXPECT_TRUE(t.equals(Tensor::from_vector<float>({2, 3}, values)));
  }
}

TEST(Npy, AcceptsEveryByteOrderMarkThatMeansLittleEndian) {
  const std::vector<std::pair<std::string, DataType>> cases = {
      {"|i1", DataType::kInt8},   {"i1", DataType::kInt8},    {"<i1", DataType::kInt8},
      {">i1", DataType::kInt8},   {"|u1", DataType::kUInt8},  {"<u1", DataType::kUInt8},
      {"|b1", DataType::kBool},   {"<b1", DataType::kBool},   {"?", DataType::kBool},
      {"=i4", DataType::kInt32},  {"<u8", DataType::kUInt64}, {"<f2", DataType::kFloat16},
      {"=f8", DataType::kDouble},
  };
  for (const auto& [descr, dtype] : cases) {
    SCOPED_TRACE(descr);
    const size_t size = static_cast<size_t>(dtype_bits(dtype) / 8);
    const std::string dict = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': (2,), }";
    const Tensor t = parse_npy(npy_file(dict, std::string(2 * size, '\x01')), "x.npy");
    EXPECT_EQ(t.dtype(), dtype);
    EXPECT_EQ(t.shape(), Shape{2});
  }
}

TEST(Npy, StoresBoolsAsZeroOrOne) {
  const std::string dict = "{'descr': '|b1', 'fortran_order': False, 'shape': (3,), }";
  const Tensor t = parse_npy(npy_file(dict, std::string("\x00\x02\xff", 3)), "x.npy");
  const auto* p = reinterpret_cast<const unsigned char*>(t.raw_data());
  EXPECT_EQ(p[0], 0);
  EXPECT_EQ(p[1], 1);
  EXPECT_EQ(p[2], 1);
}

TEST(Npy, IgnoresBytesAfterTheArrayLikeNumpy) {
  const std::string dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }";
  const Tensor t = parse_npy(npy_file(dict, float_bytes({7.0f, 8.0f})), "x.npy");
  EXPECT_TRUE(t.equals(Tensor::from_vector<float>({1}, {7.0f})));
}

TEST(Npy, RejectsFortranOrderNamingTheFile) {
  const std::string dict = "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }";
  const Error e = error_from([&] { parse_npy(npy_file(dict, std::string(24, '\0')), "x.npy"); });
  EXPECT_EQ(e.code(), ExitCode::kInput);
  EXPECT_TRUE(Contains(
      e.what(), "x.npy: Fortran-order arrays are not supported (save with np.ascontiguousarray)"));
}

TEST(Npy, AcceptsFortranOrderWhenTheLayoutIsTheSame) {
  const std::vector<float> values = {1, 2, 3};
  for (const std::string shape : {"(3,)", "(1, 3)", "(3, 1, 1)", "()", "(0, 4)"}) {
    SCOPED_TRACE(shape);
    const std::string dict = "{'descr': '<f4', 'fortran_order': True, 'shape': " + shape + "}";
    const Tensor t = parse_npy(npy_file(dict, float_bytes(values)), "x.npy");
    EXPECT_EQ(t.dtype(), DataType::kFloat);
  }
}

TEST(Npy, RejectsBigEndianArrays) {
  const std::string dict = "{'descr': '>f4', 'fortran_order': False, 'shape': (2,), }";
  const Error e = error_from([&] { parse_npy(npy_file(dict, std::string(8, '\0')), "x.npy"); });
  EXPECT_EQ(e.code(), ExitCode::kInput);
  EXPECT_TRUE(Contains(e.what(), "x.npy: big-endian arrays are not supported ('>f4')"));
}

TEST(Npy, RejectsObjectArrays) {
  const std::string dict = "{'descr': '|O', 'fortran_order': False, 'shape': (2,), }";
  const Error e = error_from([&] { parse_npy(npy_file(dict, std::string(16, '\0')), "x.npy"); });
  EXPECT_EQ(e.code(), ExitCode::kInput);
  EXPECT_TRUE(Contains(e.what(), "x.npy: object arrays are not supported"));
}

TEST(Npy, RejectsStructuredArrays) {
  const std::string dict =
      "{'descr': [('a', '<f4'), ('b', '<i4', (2,))], 'fortran_order': False, 'shape': (2,), }";
  const Error e = error_from([&] { parse_npy(npy_file(dict, std::string(24, '\0')), "x.npy"); });
  EXPECT_EQ(e.code(), ExitCode::kInput);
  EXPECT_TRUE(Contains(e.what(), "x.npy: structured arrays are not supported"));
}

TEST(Npy, RejectsTruncatedDataSayingHowMuchIsMissing) {
  const std::string dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (20, 60), }";
  const std::string file = npy_file(dict, std::string(12, '\0'));
  const Error e = error_from([&] { parse_npy(file, "x.npy"); });
  EXPECT_EQ(e.code(), ExitCode::kInput);
  EXPECT_TRUE(Contains(e.what(), "x.npy: truncated: header says 4800 bytes of data, file has 12"));

  TempDir dir;
  write_file(dir / "x.npy", file);
  const Error from_disk = error_from([&] { read_npy(dir / "x.npy"); });
  EXPECT_EQ(from_disk.code(), ExitCode::kInput);
  EXPECT_TRUE(
      Contains(from_disk.what(), "x.npy: truncated: header says 4800 bytes of data, file has 12"));
}

TEST(Npy, RejectsAFileThatEndsInsideTheHeader) {
  const std::string file =
      npy_file("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", "");
  TempDir dir;
  for (size_t keep : {8u, 11u, 40u}) {
    SCOPED_TRACE(keep);
    const Error e = error_from([&] { parse_npy(file.substr(0, keep), "x.npy"); });
    EXPECT_EQ(e.code(), ExitCode::kInput);
    EXPECT_TRUE(Contains(e.what(), "x.npy: truncated"));
    write_file(dir / "x.npy", file.substr(0, keep));
    EXPECT_TRUE(Contains(error_from([&] { read_npy(dir / "x.npy"); }).what(), "x.npy: truncated"));
  }
}

TEST(Npy, RejectsFilesWithoutTheMagic) {
  for (const std::string bytes : {"", "\x93NUM", "PK\x03\x04 this is a zip", "\x93NUMPx\x01\x00"}) {
    const Error e = error_from([&] { parse_npy(bytes, "x.npy"); });
    EXPECT_EQ(e.code(), ExitCode::kInput);
    EXPECT_TRUE(Contains(e.what(), "x.npy: not a .npy file (bad magic)"));
  }
}

TEST(Npy, ReportsAMissingFileAsBadInput) {
  TempDir dir;
  const Error e = error_from([&] { read_npy(dir / "x.npy"); });
  EXPECT_EQ(e.code(), ExitCode::kInput);
  EXPECT_TRUE(Contains(e.what(), "x.npy: no such file"));
}

TEST(Npy, ReportsADirectoryAsBadInput) {
  TempDir dir;
  const Error e = error_from([&] { read_npy(dir.path()); });
  EXPECT_EQ(e.code(), ExitCode::kInput);
  EXPECT_TRUE(Contains(e.what(), dir.path().string() + ": is a directory"));
}

TEST(Npy, ReportsUnknownDtypesAsUnsupportedNamingThem) {
  for (const std::string descr : {"<c8", "<U5", "|S3", "<M8[ns]", "<f16", "<i3", ""}) {
    SCOPED_TRACE(descr);
    const std::string dict = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': (1,), }";
    const Error e = error_from([&] { parse_npy(npy_file(dict, std::string(16, '\0')), "x.npy"); });
    EXPECT_EQ(e.code(), ExitCode::kUnsupported);
    EXPECT_TRUE(Contains(e.what(), "x.npy: unsupported dtype '" + descr + "'"));
  }
}

TEST(Npy, ReportsUnknownFormatVersionsAsUnsupported) {
  std::string file = npy_file("{'descr': '<f4', 'fortran_order': False, 'shape': (), }", "abcd");
  file[6] = '\x04';
  const Error e = error_from([&] { parse_npy(file, "x.npy"); });
  EXPECT_EQ(e.code(), ExitCode::kUnsupported);
  EXPECT_TRUE(Contains(e.what(), "x.npy: unsupported .npy format version 4.0"));
}

TEST(Npy, RejectsMalformedHeadersNamingTheFile) {
  const std::vector<std::string> dicts = {
      "",
      "not a dict",
      "{'descr': '<f4', 'fortran_order': False}",
      "{'descr': '<f4', 'shape': (1,)}",
      "{'fortran_order': False, 'shape': (1,)}",
      "{'descr': '<f4', 'fortran_order': False, 'shape': (1,)",
      "{'descr': '<f4' 'fortran_order': False, 'shape': (1,)}",
      "{'descr': '<f4', 'fortran_order': 0, 'shape': (1,)}",
      "{'descr': '<f4', 'fortran_order': False, 'shape': (-1,)}",
      "{'descr': '<f4', 'fortran_order': False, 'shape': ('1',)}",
      "{'descr': '<f4', 'fortran_order': False, 'shape': 1}",
      "{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,)}",
      "{'descr': 4, 'fortran_order': False, 'shape': (1,)}",
      "{'descr': '<f4, 'fortran_order': False, 'shape': (1,)}",
      "{'descr': '<f4', 'fortran_order': False, 'shape': (1,)} junk",
      "{'descr': '<f4', 'fortran_order': False, 'shape': " + std::string(100, '(') + "}",
  };
  for (const std::string& dict : dicts) {
    SCOPED_TRACE(dict);
    const Error e = error_from([&] { parse_npy(npy_file(dict, std::string(4, '\0')), "x.npy"); });
    EXPECT_EQ(e.code(), ExitCode::kInput);
    EXPECT_TRUE(Contains(e.what(), "x.npy: "));
  }
}

TEST(Npy, RejectsShapesWhoseSizeOverflows) {
  const std::string dict =
      "{'descr': '<f8', 'fortran_order': False, 'shape': (4294967296, 4294967296), }";
  const Error e = error_from([&] { parse_npy(npy_file(dict, ""), "x.npy"); });
  EXPECT_EQ(e.code(), ExitCode::kInput);
  EXPECT_TRUE(Contains(e.what(), "x.npy: "));
}

TEST(Npy, RefusesTypesNumpyLacksNamingThem) {
  TempDir dir;
  for (DataType dtype : {DataType::kBFloat16, DataType::kInt4, DataType::kUInt4,
                         DataType::kFloat8E4M3FN, DataType::kFloat8E5M2}) {
    const std::string name(dtype_name(dtype));
    SCOPED_TRACE(name);
    const Tensor t(dtype, {4});
    const Error in_memory = error_from([&] { npy_bytes(t); });
    EXPECT_EQ(in_memory.code(), ExitCode::kUnsupported);
    EXPECT_TRUE(Contains(in_memory.what(), name));

    const Error on_disk = error_from([&] { write_npy(dir / "t.npy", t); });
    EXPECT_EQ(on_disk.code(), ExitCode::kUnsupported);
    EXPECT_TRUE(Contains(on_disk.what(), "t.npy: "));
    EXPECT_TRUE(Contains(on_disk.what(), name));
    EXPECT_TRUE(fs::is_empty(dir.path()));
  }
}

TEST(Npy, WritingIntoAMissingDirectoryFailsAsOutputAndLeavesNoFile) {
  TempDir dir;
  const fs::path path = dir / "missing" / "t.npy";
  const Error e = error_from([&] { write_npy(path, Tensor(DataType::kFloat, {2})); });
  EXPECT_EQ(e.code(), ExitCode::kOutput);
  EXPECT_TRUE(Contains(e.what(), path.string()));
  EXPECT_FALSE(fs::exists(path));
  EXPECT_TRUE(fs::is_empty(dir.path()));
}

TEST(Npy, ReplacesAnExistingFileWhole) {
  TempDir dir;
  write_npy(dir / "t.npy", patterned(DataType::kDouble, {100}));
  const Tensor small = patterned(DataType::kInt8, {3});
  write_npy(dir / "t.npy", small);
  EXPECT_TRUE(read_npy(dir / "t.npy").equals(small));
  EXPECT_EQ(std::distance(fs::directory_iterator(dir.path()), fs::directory_iterator()), 1);
}

TEST(Npy, ReadsFromAPipe) {
  TempDir dir;
  const fs::path fifo = dir / "pipe.npy";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0) << std::strerror(errno);
  const Tensor t = patterned(DataType::kInt32, {5, 7});
  std::thread writer([&] {
    std::ofstream out(fifo, std::ios::binary);
    const std::string bytes = npy_bytes(t);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  });
  Tensor read;
  try {
    read = read_npy(fifo);
  } catch (...) {
    std::ifstream unblock(fifo, std::ios::binary);  // let the writer finish before failing
    writer.join();
    throw;
  }
  writer.join();
  EXPECT_TRUE(read.equals(t));
}

}  // namespace
}  // namespace onnxq

#include "core/spill_file.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "core/file_regions.hpp"
#include "onnxq/atomic_file.hpp"
#include "support/temp_dir.hpp"

namespace onnxq {
namespace {

std::vector<uint8_t> pattern(size_t n, int seed) {
  std::vector<uint8_t> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = static_cast<uint8_t>((i * 131 + static_cast<size_t>(seed)) >> 3);
  return v;
}

TEST(SpillFile, WrittenRangesReadBackAsViewsAtTheirOffsets) {
  auto spill = SpillFile::create();
  ASSERT_TRUE(spill);
  const auto a = pattern(100000, 1), b = pattern(5000, 2);
  const uint64_t at_a = spill->reserve(a.size()), at_b = spill->reserve(b.size());
  EXPECT_EQ(at_b % 4096, 0u);
  EXPECT_GE(at_b, at_a + a.size());
  spill->write(at_b, b.data(), b.size());
  spill->write(at_a, a.data(), 60000);  // in two pieces, as chunks written by several threads
  spill->write(at_a + 60000, a.data() + 60000, a.size() - 60000);
  const Tensor va = spill->view(DataType::kUInt8, {100000}, at_a), vb = spill->view(DataType::kUInt8, {5000}, at_b);
  EXPECT_EQ(std::vector<uint8_t>(va.data<uint8_t>(), va.data<uint8_t>() + a.size()), a);
  EXPECT_EQ(std::vector<uint8_t>(vb.data<uint8_t>(), vb.data<uint8_t>() + b.size()), b);
}

TEST(SpillFile, ViewsAreFileRegionsThatReadAndSaveFromTheFile) {
  auto spill = SpillFile::create();
  ASSERT_TRUE(spill);
  const auto a = pattern(300000, 3);
  const uint64_t at = spill->reserve(a.size());
  spill->write(at, a.data(), a.size());
  const Tensor v = spill->view(DataType::kUInt8, {300000}, at);
  const auto region = find_file_region(v.raw_data() + 10, 100);
  ASSERT_TRUE(region);
  EXPECT_EQ(region->offset, at + 10);
  EXPECT_FALSE(find_file_region(v.raw_data() + 10, 300000)) << "a range running past the region is not in it";
  std::vector<uint8_t> out(1000);
  read_bytes(v.raw_data() + 777, out.size(), out.data());
  EXPECT_EQ(out, std::vector<uint8_t>(a.begin() + 777, a.begin() + 1777));

  // AtomicFile copies the region file to file, between bytes written the ordinary way.
  test::TempDir dir;
  const auto path = dir / "out.bin";
  AtomicFile file(path);
  file.write("head", 4);
  file.write(v.raw_data() + 5, 200000);
  file.write("tail", 4);
  EXPECT_EQ(file.offset(), 200008u);
  file.commit();
  const std::string bytes = test::read_file_bytes(path);
  ASSERT_EQ(bytes.size(), 200008u);
  EXPECT_EQ(bytes.substr(0, 4), "head");
  EXPECT_EQ(bytes.substr(200004), "tail");
  EXPECT_TRUE(std::equal(a.begin() + 5, a.begin() + 200005, reinterpret_cast<const uint8_t*>(bytes.data()) + 4));
}

}  // namespace
}  // namespace onnxq

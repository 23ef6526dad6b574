#include "onnxq/byte_size.hpp"

#include <gtest/gtest.h>

#include "onnxq/error.hpp"

namespace onnxq {
namespace {

TEST(ByteSize, ParsesPlainBytesAndDecimalAndBinaryUnits) {
  EXPECT_EQ(parse_byte_size("1234"), 1234u);
  EXPECT_EQ(parse_byte_size("1234B"), 1234u);
  EXPECT_EQ(parse_byte_size("500kB"), 500000u);
  EXPECT_EQ(parse_byte_size("12MB"), 12000000u);
  EXPECT_EQ(parse_byte_size("1.5GB"), 1500000000u);
  EXPECT_EQ(parse_byte_size("4KiB"), 4096u);
  EXPECT_EQ(parse_byte_size("2MiB"), 2097152u);
  EXPECT_EQ(parse_byte_size("1GiB"), 1073741824u);
}

TEST(ByteSize, RejectsWhatIsNotASizeAsAUsageError) {
  for (const char* bad : {"", "MB", "12XB", "-5", "1.2.3MB", "12 M"}) {
    SCOPED_TRACE(bad);
    try {
      parse_byte_size(bad);
      FAIL();
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ExitCode::kUsage);
    }
  }
}

TEST(ByteSize, FormatsWithDecimalUnits) {
  EXPECT_EQ(format_bytes(999), "999 B");
  EXPECT_EQ(format_bytes(578966), "578.97 kB");
  EXPECT_EQ(format_bytes(2415919104ULL), "2.42 GB");
}

}  // namespace
}  // namespace onnxq

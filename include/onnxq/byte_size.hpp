#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace onnxq {

// Parses "1234", "500kB", "12MB", "1.5GB" (powers of 1000) and "4KiB", "2MiB", "1GiB"
// (powers of 1024); "B" is allowed as a suffix. Throws kUsage on anything else.
uint64_t parse_byte_size(std::string_view text);

// "1.23 MB" style, powers of 1000, for human-readable output.
std::string format_bytes(uint64_t bytes);

}  // namespace onnxq

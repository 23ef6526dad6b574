#pragma once

#include <cstdint>
#include <optional>

namespace onnxq {

// Memory known to mirror a range of an open file: a read-only mapping of it. Bytes that lie
// in one are read with pread and written to other files by the kernel (copy_file_range)
// instead of through the mapping: on the virtual machines onnxq runs on, the first touch of
// each mapped 4 kB page costs microseconds, far more than copying its bytes, so a program
// that touches a large model's pages runs several times slower than `cp`.
struct FileSpan {
  int fd = -1;
  uint64_t offset = 0;  // of the first byte in the file
};

// Registers [base, base + size) as mirroring `fd` from `offset`; the caller keeps the fd open
// and the memory unchanged until it unregisters.
void register_file_region(const void* base, uint64_t size, int fd, uint64_t offset);
void unregister_file_region(const void* base);

// Where [p, p + n) is in a file, when all of it lies in one registered region.
std::optional<FileSpan> find_file_region(const void* p, uint64_t n);

// Copies n bytes from p to out: from the file when they lie in a registered region (falling
// back to memcpy if the read fails), else with memcpy.
void read_bytes(const void* p, uint64_t n, void* out);

}  // namespace onnxq

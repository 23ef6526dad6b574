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

// Exactly n bytes from / to `fd` at `offset`, retrying interrupted and partial transfers.
// Returns the bytes moved: fewer than n at the end of the file or on an error (errno says).
uint64_t pread_all(int fd, void* out, uint64_t n, uint64_t offset);
uint64_t pwrite_all(int fd, const void* data, uint64_t n, uint64_t offset);

// Copies n bytes from p to out: from the file when they lie in a registered region (falling
// back to memcpy if the read fails), else with memcpy.
void read_bytes(const void* p, uint64_t n, void* out);

}  // namespace onnxq

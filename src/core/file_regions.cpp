#include "core/file_regions.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <map>
#include <mutex>

namespace onnxq {
namespace {

struct Region {
  uint64_t size;
  int fd;
  uint64_t offset;
};

// Never destroyed: mappings held by static objects (a test's cached model) unregister during
// exit, after function-local statics would already be gone.
std::mutex& regions_mutex() {
  static auto* m = new std::mutex;
  return *m;
}

std::map<uintptr_t, Region>& regions() {
  static auto* r = new std::map<uintptr_t, Region>;
  return *r;
}

}  // namespace

void register_file_region(const void* base, uint64_t size, int fd, uint64_t offset) {
  std::lock_guard lock(regions_mutex());
  regions()[reinterpret_cast<uintptr_t>(base)] = {size, fd, offset};
}

void unregister_file_region(const void* base) {
  std::lock_guard lock(regions_mutex());
  regions().erase(reinterpret_cast<uintptr_t>(base));
}

std::optional<FileSpan> find_file_region(const void* p, uint64_t n) {
  const auto address = reinterpret_cast<uintptr_t>(p);
  std::lock_guard lock(regions_mutex());
  const auto& r = regions();
  auto it = r.upper_bound(address);
  if (it == r.begin()) return std::nullopt;
  --it;
  const uint64_t start = address - it->first;
  if (start > it->second.size || n > it->second.size - start) return std::nullopt;
  return FileSpan{it->second.fd, it->second.offset + start};
}

namespace {

template <class Byte, class Transfer>
uint64_t transfer_all(Byte* p, uint64_t n, uint64_t offset, Transfer transfer) {
  uint64_t done = 0;
  while (done < n) {
    const ssize_t moved = transfer(p + done, n - done, static_cast<off_t>(offset + done));
    if (moved < 0 && errno == EINTR) continue;
    if (moved <= 0) break;
    done += static_cast<uint64_t>(moved);
  }
  return done;
}

}  // namespace

uint64_t pread_all(int fd, void* out, uint64_t n, uint64_t offset) {
  return transfer_all(static_cast<char*>(out), n, offset,
                      [fd](char* p, uint64_t k, off_t at) { return ::pread(fd, p, k, at); });
}

uint64_t pwrite_all(int fd, const void* data, uint64_t n, uint64_t offset) {
  return transfer_all(static_cast<const char*>(data), n, offset,
                      [fd](const char* p, uint64_t k, off_t at) { return ::pwrite(fd, p, k, at); });
}

void read_bytes(const void* p, uint64_t n, void* out) {
  if (const auto span = find_file_region(p, n))
    if (pread_all(span->fd, out, n, span->offset) == n) return;
  std::memcpy(out, p, n);
}

}  // namespace onnxq

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

void read_bytes(const void* p, uint64_t n, void* out) {
  if (const auto span = find_file_region(p, n)) {
    auto* dst = static_cast<char*>(out);
    uint64_t done = 0;
    while (done < n) {
      const ssize_t got = ::pread(span->fd, dst + done, n - done, static_cast<off_t>(span->offset + done));
      if (got < 0 && errno == EINTR) continue;
      if (got <= 0) break;
      done += static_cast<uint64_t>(got);
    }
    if (done == n) return;
  }
  std::memcpy(out, p, n);
}

}  // namespace onnxq

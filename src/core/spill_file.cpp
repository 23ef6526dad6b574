#include "core/spill_file.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>

#include "core/file_regions.hpp"
#include "onnxq/error.hpp"

namespace onnxq {
namespace {

constexpr uint64_t kPage = 4096;

int open_temp() {
  const char* env = std::getenv("TMPDIR");
  const std::string dir = env && *env ? env : "/tmp";
#ifdef O_TMPFILE
  const int fd = ::open(dir.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
  if (fd >= 0) return fd;
#endif
  std::string pattern = dir + "/.onnxq-spill-XXXXXX";
  const int fd2 = ::mkostemp(pattern.data(), O_CLOEXEC);
  if (fd2 >= 0) ::unlink(pattern.c_str());
  return fd2;
}

// A mapping of part of the spill file; keeps the file open while a tensor views it.
struct SpillMapping {
  void* base = nullptr;
  uint64_t size = 0;
  std::shared_ptr<SpillFile> file;
  ~SpillMapping() {
    unregister_file_region(base);
    ::munmap(base, size);
  }
};

}  // namespace

std::shared_ptr<SpillFile> SpillFile::create() {
  const int fd = open_temp();
  if (fd < 0) return nullptr;
  std::shared_ptr<SpillFile> file(new SpillFile(fd));
  file->self_ = file;
  return file;
}

SpillFile::~SpillFile() { ::close(fd_); }

uint64_t SpillFile::reserve(uint64_t n) {
  return size_.fetch_add((n + kPage - 1) / kPage * kPage);
}

void SpillFile::write(uint64_t offset, const void* data, uint64_t n) {
  errno = 0;
  if (pwrite_all(fd_, data, n, offset) != n)
    fail(ExitCode::kOutput, std::string("temporary file for quantized weights: write failed: ") +
                                (errno ? std::strerror(errno) : "no space"));
}

void SpillFile::read(uint64_t offset, void* data, uint64_t n) const {
  errno = 0;
  if (pread_all(fd_, data, n, offset) != n)
    fail(ExitCode::kOutput, std::string("temporary file for quantized weights: read failed: ") +
                                (errno ? std::strerror(errno) : "short file"));
}

Tensor SpillFile::view(DataType dtype, Shape shape, uint64_t offset) {
  const uint64_t n = dtype_storage_bytes(dtype, shape_numel(shape));
  auto mapping = std::make_shared<SpillMapping>();
  mapping->size = std::max<uint64_t>(n, 1);
  mapping->file = self_.lock();
  void* p = ::mmap(nullptr, mapping->size, PROT_READ, MAP_SHARED, fd_, static_cast<off_t>(offset));
  if (p == MAP_FAILED)
    fail(ExitCode::kInternal, std::string("cannot map the temporary file for quantized weights: ") + std::strerror(errno));
  mapping->base = p;
  register_file_region(p, n, fd_, offset);
  return Tensor::view(dtype, std::move(shape), static_cast<std::byte*>(p), mapping);
}

}  // namespace onnxq

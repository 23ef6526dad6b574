#include "onnxq/atomic_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "core/file_regions.hpp"
#include "onnxq/error.hpp"

namespace onnxq {

AtomicFile::AtomicFile(std::filesystem::path target) : target_(std::move(target)) {
  struct stat st {};
  if (::stat(target_.c_str(), &st) == 0 && !S_ISREG(st.st_mode)) {
    if (S_ISDIR(st.st_mode)) fail(ExitCode::kOutput, target_.string() + ": is a directory");
    // A device or pipe can't be renamed over: write to it as it is.
    direct_ = true;
    fd_ = ::open(target_.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd_ < 0) fail_io("cannot open for writing");
    return;
  }
  auto dir = target_.parent_path();
  if (dir.empty()) dir = ".";
  std::string pattern = (dir / (std::string(".").append(target_.filename().string()).append(".tmp-XXXXXX"))).string();
  std::vector<char> buf(pattern.begin(), pattern.end());
  buf.push_back('\0');
  fd_ = ::mkostemp(buf.data(), O_CLOEXEC);
  if (fd_ < 0) fail_io("cannot create a file in '" + dir.string() + "'");
  temp_ = buf.data();
  // mkstemp creates 0600; give the file the permissions a plain create would.
  const mode_t mask = ::umask(0);
  ::umask(mask);
  ::fchmod(fd_, 0666 & ~mask);
}

AtomicFile::~AtomicFile() {
  if (!committed_) discard();
}

void AtomicFile::fail_io(std::string_view what) const {
  const int err = errno;
  fail(ExitCode::kOutput, target_.string() + ": " + std::string(what) + ": " + std::strerror(err));
}

// Bytes mirrored from a file are copied file to file by the kernel, as `cp` does, so their
// pages are never touched here; false, having written nothing, when the kernel can't.
bool AtomicFile::copy_from_file(const void* data, size_t size) {
  const auto span = find_file_region(data, size);
  if (!span) return false;
  auto from = static_cast<off_t>(span->offset);
  size_t done = 0;
  while (done < size) {
    const ssize_t n = ::copy_file_range(span->fd, &from, fd_, nullptr, size - done, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    done += static_cast<size_t>(n);
    offset_ += static_cast<uint64_t>(n);
  }
  if (done < size) write_bytes(static_cast<const char*>(data) + done, size - done);
  return true;
}

void AtomicFile::write(const void* data, size_t size) {
  if (size >= kKernelCopyMinBytes && copy_from_file(data, size)) return;
  write_bytes(static_cast<const char*>(data), size);
}

void AtomicFile::write_bytes(const char* p, size_t size) {
  while (size > 0) {
    const ssize_t n = ::write(fd_, p, size);
    if (n < 0) {
      if (errno == EINTR) continue;
      fail_io("write failed");
    }
    p += n;
    size -= static_cast<size_t>(n);
    offset_ += static_cast<uint64_t>(n);
  }
}

void AtomicFile::pad_to(uint64_t alignment) {
  static const char zeros[64] = {};
  while (offset_ % alignment != 0) {
    const uint64_t n = std::min<uint64_t>(alignment - offset_ % alignment, sizeof(zeros));
    write(zeros, n);
  }
}

void AtomicFile::commit() {
  if (committed_) return;
  const int fd = fd_;
  fd_ = -1;
  if (::close(fd) != 0) fail_io("write failed");
  if (!direct_ && ::rename(temp_.c_str(), target_.c_str()) != 0) fail_io("cannot rename into place");
  committed_ = true;
}

void AtomicFile::discard() {
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
  }
  if (direct_) return;
  if (!committed_) {
    if (!temp_.empty()) ::unlink(temp_.c_str());
  } else {
    ::unlink(target_.c_str());
  }
}

}  // namespace onnxq

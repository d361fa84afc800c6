//===- FileUtil.cpp - reading, atomic writing and mapping files -*- C++ -*-===//
//
// Part of msa. Licensed under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// POSIX implementations of the FileUtil.h helpers. Every system call is
// retried on EINTR and every failure becomes a Status naming the path.
//
//===----------------------------------------------------------------------===//

#include "msa/runtime/FileUtil.h"

#include <atomic>
#include <cerrno>
#include <cstring>

#include <fcntl.h>
#include <ftw.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

namespace msa::runtime {

namespace {

/// What data() points at for an empty file, so callers never see nullptr.
const uint8_t kEmptyFileByte = 0;

/// Distinguishes concurrent writeFileAtomic calls of one process on one
/// path, which would otherwise share a temporary name.
std::atomic<uint64_t> tempFileCounter{0};

std::string errnoText(int err) { return std::strerror(err); }

/// NotFound for a missing file or directory, IoError for the rest.
Status errnoStatus(int err, std::string message) {
  if (err == ENOENT)
    return notFound(std::move(message));
  return ioError(std::move(message));
}

int openRetrying(const char *path, int flags, mode_t mode = 0) {
  int fd;
  do {
    fd = ::open(path, flags, mode);
  } while (fd < 0 && errno == EINTR);
  return fd;
}

/// Closes `fd`; a failed close after writing can mean lost data, so the
/// result matters (EINTR still means the descriptor is gone on Linux).
bool closeChecked(int fd) { return ::close(fd) == 0 || errno == EINTR; }

/// Writes all of `bytes` to `fd`; returns 0 or the errno of the failure.
int writeAll(int fd, std::string_view bytes) {
  const char *p = bytes.data();
  size_t left = bytes.size();
  while (left > 0) {
    ssize_t n = ::write(fd, p, left);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      return errno;
    }
    p += n;
    left -= static_cast<size_t>(n);
  }
  return 0;
}

} // namespace

StatusOr<std::string> readFile(const std::string &path) {
  int fd = openRetrying(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    int err = errno;
    return errnoStatus(err, path + ": cannot open: " + errnoText(err));
  }
  std::string contents;
  struct stat st;
  // The size is only a hint: files under /proc report 0 and others may grow.
  if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0)
    contents.reserve(static_cast<size_t>(st.st_size));
  char buffer[1 << 16];
  while (true) {
    ssize_t n = ::read(fd, buffer, sizeof(buffer));
    if (n == 0)
      break;
    if (n < 0) {
      if (errno == EINTR)
        continue;
      int err = errno;
      ::close(fd);
      return ioError(path + ": cannot read: " + errnoText(err));
    }
    contents.append(buffer, static_cast<size_t>(n));
  }
  ::close(fd);
  return contents;
}

Status writeFileAtomic(const std::string &path, std::string_view bytes) {
  size_t slash = path.rfind('/');
  std::string prefix =
      slash == std::string::npos ? "" : path.substr(0, slash + 1);
  std::string name = path.substr(prefix.size());
  if (name.empty())
    return invalidArgument(path + ": cannot write: the path names a directory");
  std::string directory = prefix.empty() ? "." : prefix;

  std::string temp = prefix + "." + name + ".tmp." +
                     std::to_string(static_cast<long long>(::getpid())) + "." +
                     std::to_string(tempFileCounter.fetch_add(1));
  int fd =
      openRetrying(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
  if (fd < 0) {
    int err = errno;
    return errnoStatus(err, path + ": cannot create temporary file " + temp +
                                ": " + errnoText(err));
  }

  // From here on every failure must remove the temporary file.
  auto fail = [&](const char *what, int err) {
    ::unlink(temp.c_str());
    return ioError(path + ": " + what + ": " + errnoText(err));
  };
  if (int err = writeAll(fd, bytes)) {
    ::close(fd);
    return fail("cannot write", err);
  }
  // Without this fsync a crash after the rename could leave a file of the
  // right name but with unwritten (zero) blocks.
  if (::fsync(fd) != 0) {
    int err = errno;
    ::close(fd);
    return fail("cannot sync", err);
  }
  if (!closeChecked(fd))
    return fail("cannot close", errno);
  if (::rename(temp.c_str(), path.c_str()) != 0)
    return fail("cannot rename the temporary file into place", errno);

  // The rename is durable only once the directory entry is on disk.
  int dirFd =
      openRetrying(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dirFd < 0) {
    int err = errno;
    return ioError(path + ": cannot open directory " + directory +
                   " to sync it: " + errnoText(err));
  }
  int syncResult = ::fsync(dirFd);
  int syncErr = errno;
  ::close(dirFd);
  // Some file systems cannot sync directories and say EINVAL; the data
  // itself is already synced, so that is not a failure.
  if (syncResult != 0 && syncErr != EINVAL)
    return ioError(path + ": cannot sync directory " + directory + ": " +
                   errnoText(syncErr));
  return Status::ok();
}

StatusOr<std::unique_ptr<MappedFile>>
MappedFile::open(const std::string &path) {
  int fd = openRetrying(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    int err = errno;
    return errnoStatus(err, path + ": cannot open: " + errnoText(err));
  }
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    int err = errno;
    ::close(fd);
    return ioError(path + ": cannot stat: " + errnoText(err));
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    return invalidArgument(path + ": cannot map: not a regular file");
  }
  std::unique_ptr<MappedFile> file(new MappedFile());
  file->path_ = path;
  file->size_ = static_cast<size_t>(st.st_size);
  if (file->size_ == 0) {
    // mmap rejects a zero length.
    file->data_ = &kEmptyFileByte;
    ::close(fd);
    return file;
  }
  void *map = ::mmap(nullptr, file->size_, PROT_READ, MAP_PRIVATE, fd, 0);
  int err = errno;
  ::close(fd); // The mapping keeps its own reference to the file.
  if (map == MAP_FAILED)
    return ioError(path + ": cannot map: " + errnoText(err));
  file->data_ = static_cast<const uint8_t *>(map);
  file->mapped_ = true;
  return file;
}

MappedFile::~MappedFile() {
  if (mapped_)
    ::munmap(const_cast<uint8_t *>(data_), size_);
}

bool fileExists(const std::string &path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

bool isDirectory(const std::string &path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

Status makeDirectories(const std::string &path) {
  if (path.empty())
    return invalidArgument("cannot create a directory with an empty path");
  if (isDirectory(path))
    return Status::ok();
  // Create each prefix that ends before a '/', then the whole path.
  size_t end = 0;
  while (end != std::string::npos) {
    end = path.find('/', end + 1);
    std::string prefix = path.substr(0, end);
    if (prefix.empty() || prefix.back() == '/')
      continue; // "//" or a trailing '/'.
    // Existing ancestors are skipped before mkdir, which could report
    // EACCES or EROFS for them instead of EEXIST.
    if (isDirectory(prefix))
      continue;
    if (::mkdir(prefix.c_str(), 0777) == 0)
      continue;
    int err = errno;
    if (err == EEXIST) {
      if (isDirectory(prefix))
        continue;
      err = ENOTDIR;
    }
    return errnoStatus(err, path + ": cannot create directory " + prefix +
                                ": " + errnoText(err));
  }
  return Status::ok();
}

std::string joinPath(const std::string &a, const std::string &b) {
  if (a.empty() || (!b.empty() && b.front() == '/'))
    return b;
  if (a.back() == '/')
    return a + b;
  return a + "/" + b;
}

Status removeTree(const std::string &path) {
  struct stat st;
  if (::lstat(path.c_str(), &st) != 0)
    return errno == ENOENT ? Status::ok()
                           : ioError(path + ": cannot stat: " +
                                     std::strerror(errno));
  // Depth-first, physical walk: children go before their directory and
  // links are removed, never followed.
  auto remove = [](const char *p, const struct stat *, int, struct FTW *) {
    return ::remove(p);
  };
  if (::nftw(path.c_str(), remove, 16, FTW_DEPTH | FTW_PHYS) != 0)
    return ioError(path + ": cannot remove: " + std::strerror(errno));
  return Status::ok();
}

} // namespace msa::runtime

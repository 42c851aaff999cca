#include "daemon/storage/daemon_lock.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>

#include <fmt/format.h>

namespace giftgate {
namespace {

// A write lock over the whole file, to take or to ask about.
struct flock whole_file() {
  struct flock lock {};
  lock.l_type = F_WRLCK;
  lock.l_whence = SEEK_SET;
  lock.l_start = 0;
  lock.l_len = 0;  // to the end, however long the file grows
  return lock;
}

// The process holding a lock that conflicts with a write lock on the file
// open at fd, 0 when none does, or -1 when the kernel cannot say.
pid_t lock_holder(int fd) {
  struct flock lock = whole_file();
  if (::fcntl(fd, F_GETLK, &lock) != 0) return -1;
  return lock.l_type == F_UNLCK ? 0 : lock.l_pid;
}

// The process id written in the file open at fd, or 0 when there is none.
pid_t pid_in_file(int fd) {
  char buf[32];
  const ssize_t n = ::pread(fd, buf, sizeof buf, 0);
  if (n <= 0) return 0;
  long pid = 0;
  const auto [end, ec] = std::from_chars(buf, buf + n, pid);
  if (ec != std::errc() || (end != buf + n && *end != '\n') || pid <= 1) return 0;
  return static_cast<pid_t>(pid);
}

}  // namespace

std::string DaemonLock::path_for(const std::string& db_path) { return db_path + ".lock"; }

std::unique_ptr<DaemonLock> DaemonLock::acquire(const std::string& db_path, std::string* error) {
  const std::string path = path_for(db_path);
  // Readable by all: it holds a process id only, like a pid file.
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) {
    *error = fmt::format("{}: {}", path, std::strerror(errno));
    return nullptr;
  }
  struct flock lock = whole_file();
  if (::fcntl(fd, F_SETLK, &lock) != 0) {
    const int why = errno;
    const pid_t holder = (why == EACCES || why == EAGAIN) ? lock_holder(fd) : -1;
    *error = holder > 0
                 ? fmt::format("{} is in use by giftgated process {} (it holds {}); not started",
                               db_path, holder, path)
                 : fmt::format("{}: cannot be locked: {}", path, std::strerror(why));
    ::close(fd);
    return nullptr;
  }
  const std::string pid = fmt::format("{}\n", ::getpid());
  if (::ftruncate(fd, 0) != 0 ||
      ::pwrite(fd, pid.data(), pid.size(), 0) != static_cast<ssize_t>(pid.size())) {
    *error = fmt::format("{}: cannot be written: {}", path, std::strerror(errno));
    ::close(fd);
    return nullptr;
  }
  return std::unique_ptr<DaemonLock>(new DaemonLock(fd));
}

std::optional<pid_t> DaemonLock::holder(const std::string& db_path, std::string* error) {
  const std::string path = path_for(db_path);
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    *error = errno == ENOENT
                 ? fmt::format("{} does not exist: giftgated has not run on {}", path, db_path)
                 : fmt::format("{}: {}", path, std::strerror(errno));
    return std::nullopt;
  }
  const pid_t named = pid_in_file(fd);
  const pid_t holding = lock_holder(fd);
  const int why = errno;
  ::close(fd);
  if (holding < 0) {
    *error = fmt::format("{}: the lock cannot be asked about: {}", path, std::strerror(why));
    return std::nullopt;
  }
  if (holding == 0) {
    *error = fmt::format("{}: no process holds the lock, so process {} is not a running giftgated "
                         "(a stale file: giftgated is not running on {})",
                         path, named, db_path);
    return std::nullopt;
  }
  if (holding != named) {
    *error = fmt::format("{} names process {}, but process {} holds the lock", path, named,
                         holding);
    return std::nullopt;
  }
  return holding;
}

DaemonLock::~DaemonLock() { ::close(fd_); }

}  // namespace giftgate

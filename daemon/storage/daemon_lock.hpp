// One giftgated per campaign database. Two daemons on one database would
// each take the other's in-flight voucher SMS for lost at start-up and send
// them again, and the one that stopped first would remove the other's pid
// file. So the daemon holds a write lock on "<database>.lock" for its whole
// life, the file holding its process id, and a second start is refused
// before it touches the database, the outbox or the pid file.
//
// The lock is a POSIX record lock (fcntl F_SETLK on the whole file), for two
// reasons: the kernel drops it when the process ends, however it ends, so a
// file left by a killed daemon never blocks a start; and F_GETLK names the
// holder's process (an open file description lock would not), which is how a
// second start says who runs and how giftctl reload makes sure that the
// process it signals is the one holding the lock, not whatever process got
// the number since. A POSIX lock also goes with any close of the file by its
// process: nothing else in the daemon opens it. The file is never removed
// (removing a lock file lets two processes lock two different files).
#pragma once

#include <sys/types.h>

#include <memory>
#include <optional>
#include <string>

namespace giftgate {

class DaemonLock {
 public:
  // The lock file of a database: its path with ".lock" added.
  static std::string path_for(const std::string& db_path);

  // Takes the lock for this process and writes its pid into the file; null
  // with `error` naming the holder's pid when another process holds it.
  static std::unique_ptr<DaemonLock> acquire(const std::string& db_path, std::string* error);

  // The process that both holds the lock of db_path and is named in its
  // file; nullopt with `error` when there is no file, no holder (a stale
  // file: the daemon is not running), or the file names another process.
  static std::optional<pid_t> holder(const std::string& db_path, std::string* error);

  ~DaemonLock();  // closes the file, which releases the lock
  DaemonLock(const DaemonLock&) = delete;
  DaemonLock& operator=(const DaemonLock&) = delete;

 private:
  explicit DaemonLock(int fd) : fd_(fd) {}
  int fd_;
};

}  // namespace giftgate

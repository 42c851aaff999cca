// The lock that keeps one giftgated per database. A process's own POSIX
// lock never conflicts with itself, so the holder is a forked child here.
#include <doctest/doctest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "daemon/storage/daemon_lock.hpp"
#include "tests/support/temp_dir.hpp"

using namespace giftgate;
using giftgate::test::TempDir;

namespace {

std::string read(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// A child process that takes the lock and holds it until release().
class Holder {
 public:
  explicit Holder(const std::string& db) {
    int ready[2], done[2];
    REQUIRE(::pipe(ready) == 0);
    REQUIRE(::pipe(done) == 0);
    pid_ = ::fork();
    REQUIRE(pid_ >= 0);
    if (pid_ == 0) {
      ::close(ready[0]);
      ::close(done[1]);
      std::string error;
      const auto lock = DaemonLock::acquire(db, &error);
      const char ok = lock ? 'y' : 'n';
      if (::write(ready[1], &ok, 1) != 1) ::_exit(2);
      char c;
      if (::read(done[0], &c, 1) < 0) ::_exit(3);  // returns when the parent closes its end
      ::_exit(0);
    }
    ::close(ready[1]);
    ::close(done[0]);
    done_ = done[1];
    char ok = 'n';
    REQUIRE(::read(ready[0], &ok, 1) == 1);
    ::close(ready[0]);
    REQUIRE(ok == 'y');
  }
  ~Holder() { release(); }
  void release() {
    if (pid_ <= 0) return;
    ::close(done_);
    int st = 0;
    ::waitpid(pid_, &st, 0);
    pid_ = -1;
  }
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
  int done_ = -1;
};

}  // namespace

TEST_CASE("daemon lock: one holder per database, named by the kernel and by its file") {
  TempDir dir;
  const std::string db = dir.file("campaign.db");
  const std::string file = DaemonLock::path_for(db);
  CHECK(file == db + ".lock");
  std::string error;
  CHECK_FALSE(DaemonLock::holder(db, &error));
  CHECK(error == file + " does not exist: giftgated has not run on " + db);

  Holder first(db);
  CHECK(read(file) == std::to_string(first.pid()) + "\n");
  CHECK(DaemonLock::holder(db, &error) == first.pid());

  // A second daemon is refused and told who runs.
  CHECK_FALSE(DaemonLock::acquire(db, &error));
  CHECK(error == db + " is in use by giftgated process " + std::to_string(first.pid()) +
                     " (it holds " + file + "); not started");
  CHECK(read(file) == std::to_string(first.pid()) + "\n");  // left as it was

  // A file that names another process than the holder is not believed.
  std::ofstream(file, std::ios::trunc) << "4242\n";
  CHECK_FALSE(DaemonLock::holder(db, &error));
  CHECK(error == file + " names process 4242, but process " + std::to_string(first.pid()) +
                     " holds the lock");

  // Once the holder is gone (killed or stopped, the same) the file is stale
  // and the next start takes the lock.
  first.release();
  CHECK_FALSE(DaemonLock::holder(db, &error));
  CHECK(error == file + ": no process holds the lock, so process 4242 is not a running giftgated "
                        "(a stale file: giftgated is not running on " + db + ")");
  Holder next(db);
  CHECK(DaemonLock::holder(db, &error) == next.pid());
}

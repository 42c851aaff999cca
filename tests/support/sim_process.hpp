// Runs an SMSC test peer as a child process and speaks its line protocol:
// commands on its stdin, events from its stdout. Two peers speak it:
//   - the Node.js simulator scripts/smsc-sim/smsc-sim.js (npm `smpp`), the
//     default, with every command and event of scripts/smsc-sim/README.md;
//   - tests/peers/net-smpp-smsc.pl on Perl's Net::SMPP (libnet-smpp-perl), a
//     second SMPP implementation with a subset of them and no TLS
//     (tests/peers/README.md).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace giftgate::test {

// How to start the simulator.
struct SimOptions {
  // Which peer runs: the node simulator, or the Perl one on Net::SMPP.
  enum class Peer { node_smpp, perl_net_smpp };
  Peer peer = Peer::node_smpp;
  bool tls = false;                       // listen with TLS (needs cert and key; node only)
  std::string cert;                       // PEM certificate file for --tls
  std::string key;                        // PEM private key file for --tls
  std::vector<std::string> extra_args;    // appended to the command line
  std::chrono::milliseconds ready_timeout{10000};  // wait for `ready` this long
};

// One simulator process on an ephemeral 127.0.0.1 port, for one test.
// Every member is safe to call from any thread; every wait is bounded.
class SimProcess {
 public:
  // One line from the simulator: its name, its decoded key=value fields and
  // the raw line.
  struct Event {
    std::string name;
    std::map<std::string, std::string> fields;
    std::string line;
  };

  // Starts the peer and waits for `ready`; throws std::runtime_error on
  // failure (a message naming the peer: smsc-sim or net-smpp-smsc).
  explicit SimProcess(const SimOptions& options = {});
  // Sends `quit`, waits up to 2 s, then SIGKILLs; always reaps the child.
  ~SimProcess();
  SimProcess(const SimProcess&) = delete;
  SimProcess& operator=(const SimProcess&) = delete;

  // The TCP port the simulator listens on.
  unsigned short port() const { return port_; }
  // Whether it was started with TLS.
  bool tls() const { return tls_; }
  // Which peer runs.
  SimOptions::Peer peer() const { return peer_; }
  // Its name in messages: "smsc-sim" or "net-smpp-smsc".
  const std::string& name() const { return name_; }

  // Sends one command line and waits for its `ok cmd=<name>` answer, which it
  // returns (some carry fields, e.g. `seqs=` for mo). Throws
  // std::runtime_error on `error cmd=<name>`, on a timeout, or if the
  // simulator is gone. Commands from several threads are serialised.
  Event command(const std::string& line,
                std::chrono::milliseconds timeout = std::chrono::milliseconds(5000));
  // Sends the lines in one write, so the simulator acts on them back to
  // back (a burst of MOs), then waits for every answer in order, as command.
  std::vector<Event> commands(const std::vector<std::string>& lines,
                              std::chrono::milliseconds timeout = std::chrono::milliseconds(5000));

  // The first event called `name` that no earlier wait_for returned and that
  // `pred` accepts (any, without one), waiting up to `timeout`; marks it
  // returned. `pred` runs under the harness's lock: it must not call back
  // into this object. Returns nullopt at the timeout, or at once when the
  // simulator has exited and nothing matches.
  std::optional<Event> wait_for(const std::string& name, std::chrono::milliseconds timeout,
                                std::function<bool(const Event&)> pred = {});

  // Every event received so far, in order (returned ones included).
  std::vector<Event> history() const;
  // How many events called `name` were received so far.
  std::size_t count(const std::string& name) const;
  // Whether the child process is still producing output.
  bool running() const;
  // The last lines the peer wrote on stderr (for failure messages).
  std::string stderr_tail() const;

  // Percent-encodes a value the way the simulator expects (encodeURIComponent:
  // every byte except A-Z a-z 0-9 - _ . ! ~ * ' ( ) becomes %XX).
  static std::string encode(std::string_view value);
  // Reverses encode; a malformed escape is kept as it is.
  static std::string decode(std::string_view value);
  // Splits one line into an Event (name, then key=value tokens).
  static Event parse(std::string_view line);

 private:
  void pump();
  void on_stdout_line(std::string line);
  void on_stderr_line(std::string line);
  bool write_line(const std::string& line);
  void stop_child();

  pid_t pid_ = -1;
  int stdin_fd_ = -1;
  int stdout_fd_ = -1;
  int stderr_fd_ = -1;
  unsigned short port_ = 0;
  bool tls_ = false;
  SimOptions::Peer peer_ = SimOptions::Peer::node_smpp;
  std::string name_ = "smsc-sim";

  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<Event> events_;
  std::vector<bool> returned_;
  std::vector<std::string> stderr_lines_;
  bool eof_ = false;

  std::mutex command_mutex_;  // one command in flight at a time
  std::mutex write_mutex_;
  std::thread reader_;
};

}  // namespace giftgate::test

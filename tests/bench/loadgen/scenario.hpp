// The members' side of the load generator: who texts what, in which mix,
// and what each reply means for the next step (an offer is confirmed, a
// voucher's code goes to a merchant of its city to verify). It keeps the
// record the drills check the database against. Knows nothing of sockets.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace giftgate::bench {

using Clock = std::chrono::steady_clock;

enum class Kind : std::uint8_t { balance, redeem, confirm, verify, garbled, flood };
std::string_view kind_name(Kind kind);

// One MO as the member meant it, however often it is delivered.
struct Mo {
  std::uint64_t id = 0;
  Kind kind = Kind::balance;
  std::string from;  // MSISDN digits
  std::string text;  // what was meant (UTF-8); garbled MOs: a description
  std::uint8_t data_coding = 0;
  // The short_message of each PDU (one unless concatenated; then with UDH).
  std::vector<std::vector<std::uint8_t>> parts;
  std::vector<bool> part_acked;
  Clock::time_point first_sent{};
  int deliveries = 0;  // PDUs written, redeliveries included
  bool acked = false;  // every part answered ESME_ROK
};

// Latency samples in milliseconds.
class Latency {
 public:
  void add(double ms) { samples_.push_back(ms); }
  std::size_t count() const { return samples_.size(); }
  double percentile(double p);
  double max();

 private:
  std::vector<double> samples_;
  bool sorted_ = false;
};

class Scenario {
 public:
  struct Options {
    int members = 100000;
    int balance = 60, redeem = 30, verify = 10;  // the mix, in percent
    std::string tier = "C";
    int merchants_per_city = 4;
    std::uint64_t seed = 1;
  };

  explicit Scenario(Options options);

  static constexpr int kCities = 5;
  static const char* city(int index);
  static std::string member_msisdn(int index);
  static std::string merchant_msisdn(int city, int k);
  // The senders of garbled texts: members of their own, kGarbledMembers of
  // them, whom the rest of the load never uses, so that what garbage did to
  // their points and what was answered can be checked.
  static constexpr int kGarbledMembers = 1000;
  static std::string garbled_msisdn(int index);
  // The one member who floods (flood N): a member of its own, so that the
  // rest of the load is what is measured beside it.
  static std::string flood_msisdn() { return "8613500000000"; }
  // The campaign's members and merchants as giftctl import files.
  void write_csv(const std::string& dir, long points) const;

  // The next MO by the mix, or a confirm whose offer came; nullopt when
  // every member tried is in the middle of something.
  std::optional<Mo> next();
  // Off: only the confirms of offers already asked for (a run winding down).
  void set_new_actions(bool on) { new_actions_ = on; }
  // A malformed or odd MO from a sender of its own (variant picks the kind).
  Mo garbled(int variant);
  // A balance ask from the flooding member, expecting nothing (past its
  // limits the daemon answers once, then nothing).
  Mo flood();
  // The MO was written for the first time: its reply is awaited from now.
  void first_sent(const Mo& mo, Clock::time_point at, bool sample);
  // A whole message reached `to`; its first part came at `first_part_at`.
  void message(const std::string& to, const std::string& text, Clock::time_point first_part_at,
               Clock::time_point now);

  Latency& latency() { return latency_; }
  // A second set of samples over a window the driver opens and closes
  // (window, latency): what a drill measures while something runs beside
  // the load, e.g. a backup. Every reply counts, measured or not.
  void start_window() {
    window_ = Latency();
    windowing_ = true;
  }
  Latency& close_window() {
    windowing_ = false;
    return window_;
  }
  const std::map<std::string, std::uint64_t>& counters() const { return counters_; }
  std::uint64_t awaiting() const;
  // Messages that carry a voucher code (the voucher SMS, the notice when
  // it is used), by recipient and text, with how often each came.
  const std::unordered_map<std::string, int>& texts_with_code() const { return texts_with_code_; }

 private:
  struct Member {
    bool busy = false;
  };
  struct Awaited {
    Kind kind;
    Clock::time_point sent;
    bool sample;
    int member;
  };
  Mo make(Kind kind, const std::string& from, std::string text);
  int pick_member();

  Options options_;
  std::mt19937_64 rng_;
  std::vector<Member> members_;
  int cursor_ = 0;
  bool new_actions_ = true;
  std::uint64_t next_id_ = 1;
  std::deque<int> confirms_;                         // members whose offer came
  std::vector<std::vector<std::string>> codes_;      // per city, not yet verified
  std::unordered_map<std::string, std::deque<Awaited>> awaited_;  // by MSISDN
  std::unordered_map<std::string, int> texts_with_code_;
  std::vector<int> merchant_turn_;
  std::map<std::string, std::uint64_t> counters_;
  Latency latency_;
  Latency window_;
  bool windowing_ = false;
};

// The first voucher code (two letters without I and O, eight digits) in text.
std::optional<std::string> find_code(std::string_view text);

}  // namespace giftgate::bench

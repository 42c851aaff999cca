// Reassembly of concatenated inbound messages (MO): parts marked by a user
// data header with an 8- or 16-bit reference, or by SAR parameters, are held
// until all have arrived, within a timeout and a memory bound. A part that
// arrives twice (the SMSC retries when a response is lost) is not doubled.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <list>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/pdu.hpp"

namespace giftgate::smpp {

// Where a part sits in its message.
struct Concatenation {
  enum class Kind { udh8, udh16, sar };
  Kind kind = Kind::udh8;
  std::uint16_t reference = 0;
  std::uint8_t total = 0;
  std::uint8_t seq = 0;
  friend bool operator==(const Concatenation&, const Concatenation&) = default;
};

// The user data of one inbound message: octets after any UDH, and what the
// UDH or the SAR parameters said about concatenation.
struct UserData {
  std::uint8_t data_coding = 0;
  std::vector<std::uint8_t> octets;
  // With packed GSM 7-bit, the septets start after this many fill bits
  // following the UDH (TS 23.040 9.2.3.24).
  unsigned fill_bits = 0;
  std::optional<Concatenation> concatenation;
  bool malformed_udh = false;  // UDHI set but the header does not fit: octets kept whole
};

// Reads the user data of a deliver_sm (short_message, or message_payload when
// short_message is empty) or a data_sm (message_payload).
UserData user_data(const ShortMessageFields& message);
UserData user_data(const DataSm& message);

class Reassembler {
 public:
  using Clock = std::chrono::steady_clock;

  struct Limits {
    std::chrono::seconds timeout{60};   // an incomplete message is dropped after this
    std::size_t max_bytes = 1u << 20;   // octets held for incomplete messages
  };

  enum class Status {
    complete,   // `parts` holds every part, in order
    pending,    // held, waiting for the others
    duplicate,  // this part was already held: ignored
    rejected,   // not a valid part (seq outside 1..total, too large)
  };

  struct Result {
    Status status = Status::rejected;
    std::uint8_t data_coding = 0;
    // Each part's octets and fill bits, in sequence order: packed GSM parts
    // must be unpacked one by one, the others can simply be joined.
    std::vector<std::vector<std::uint8_t>> parts;
    std::vector<unsigned> fill_bits;
    std::vector<std::uint8_t> joined() const;
  };

  struct Counters {
    std::uint64_t completed = 0;
    std::uint64_t expired = 0;
    std::uint64_t evicted = 0;
    std::uint64_t duplicates = 0;
    std::uint64_t rejected = 0;
  };

  Reassembler() : Reassembler(Limits{}) {}
  explicit Reassembler(Limits limits);

  // Adds one part of the message from `sender` (the caller's key: source and
  // destination address). `part.concatenation` must be set.
  Result add(std::string_view sender, const UserData& part, Clock::time_point now);

  // Drops incomplete messages older than the timeout; returns how many.
  std::size_t expire(Clock::time_point now);

  std::size_t pending_messages() const { return groups_.size(); }
  std::size_t bytes_held() const { return bytes_; }
  const Counters& counters() const { return counters_; }

 private:
  struct Key {
    std::string sender;
    Concatenation::Kind kind;
    std::uint16_t reference;
    std::uint8_t total;
    auto operator<=>(const Key&) const = default;
  };
  struct Group {
    Clock::time_point started;
    std::uint8_t data_coding = 0;
    std::map<std::uint8_t, std::pair<std::vector<std::uint8_t>, unsigned>> parts;
    std::size_t bytes = 0;
    std::list<Key>::iterator age;  // position in age_, oldest first
  };

  void drop(std::map<Key, Group>::iterator it);

  Limits limits_;
  std::map<Key, Group> groups_;
  std::list<Key> age_;
  std::size_t bytes_ = 0;
  Counters counters_;
};

}  // namespace giftgate::smpp

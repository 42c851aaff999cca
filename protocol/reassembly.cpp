#include "protocol/reassembly.hpp"

namespace giftgate::smpp {
namespace {

// Strips the UDH off `octets` (when `udhi`) and reads a concatenation
// information element from it.
void read_udh(bool udhi, std::vector<std::uint8_t> octets, UserData& out) {
  out.octets = std::move(octets);
  if (!udhi) return;
  const auto& o = out.octets;
  if (o.empty() || std::size_t{o[0]} + 1 > o.size()) {
    out.malformed_udh = true;
    return;
  }
  const std::size_t end = std::size_t{o[0]} + 1;
  std::optional<Concatenation> found;
  for (std::size_t at = 1; at < end;) {
    if (at + 2 > end || at + 2 + o[at + 1] > end) {
      out.malformed_udh = true;
      return;
    }
    const std::uint8_t iei = o[at], length = o[at + 1];
    const std::uint8_t* v = &o[at + 2];
    if (iei == 0x00 && length == 3) {
      found = Concatenation{Concatenation::Kind::udh8, v[0], v[1], v[2]};
    } else if (iei == 0x08 && length == 4) {
      found = Concatenation{Concatenation::Kind::udh16,
                            static_cast<std::uint16_t>((v[0] << 8) | v[1]), v[2], v[3]};
    }
    at += 2 + length;  // other elements (ports, formatting) are skipped
  }
  out.concatenation = found;
  out.fill_bits = static_cast<unsigned>((7 - (end * 8) % 7) % 7);
  out.octets.erase(out.octets.begin(), out.octets.begin() + static_cast<std::ptrdiff_t>(end));
}

void read_sar(const Tlvs& tlvs, UserData& out) {
  if (out.concatenation) return;
  const auto ref = tlvs.u16(tag::sar_msg_ref_num);
  const auto total = tlvs.u8(tag::sar_total_segments);
  const auto seq = tlvs.u8(tag::sar_segment_seqnum);
  if (ref && total && seq) out.concatenation = Concatenation{Concatenation::Kind::sar, *ref, *total, *seq};
}

std::vector<std::uint8_t> payload_of(const Tlvs& tlvs) {
  const Tlv* payload = tlvs.find(tag::message_payload);
  return payload ? payload->value : std::vector<std::uint8_t>{};
}

}  // namespace

UserData user_data(const ShortMessageFields& message) {
  UserData out;
  out.data_coding = message.data_coding;
  const bool udhi = (message.esm_class & esm::udhi) != 0;
  read_udh(udhi, message.short_message.empty() ? payload_of(message.tlvs) : message.short_message,
           out);
  read_sar(message.tlvs, out);
  return out;
}

UserData user_data(const DataSm& message) {
  UserData out;
  out.data_coding = message.data_coding;
  read_udh((message.esm_class & esm::udhi) != 0, payload_of(message.tlvs), out);
  read_sar(message.tlvs, out);
  return out;
}

std::vector<std::uint8_t> Reassembler::Result::joined() const {
  std::vector<std::uint8_t> all;
  for (const auto& p : parts) all.insert(all.end(), p.begin(), p.end());
  return all;
}

Reassembler::Reassembler(Limits limits) : limits_(limits) {}

void Reassembler::drop(std::map<Key, Group>::iterator it) {
  bytes_ -= it->second.bytes;
  age_.erase(it->second.age);
  groups_.erase(it);
}

Reassembler::Result Reassembler::add(std::string_view sender, const UserData& part,
                                     Clock::time_point now) {
  Result result;
  result.data_coding = part.data_coding;
  const auto& c = part.concatenation;
  if (!c || c->total == 0 || c->seq == 0 || c->seq > c->total ||
      part.octets.size() > limits_.max_bytes) {
    ++counters_.rejected;
    return result;
  }
  if (c->total == 1) {  // a "long" message of one part
    ++counters_.completed;
    result.status = Status::complete;
    result.parts.push_back(part.octets);
    result.fill_bits.push_back(part.fill_bits);
    return result;
  }

  const Key key{std::string(sender), c->kind, c->reference, c->total};
  auto it = groups_.find(key);
  if (it == groups_.end()) {
    it = groups_.emplace(key, Group{}).first;
    it->second.started = now;
    it->second.data_coding = part.data_coding;
    it->second.age = age_.insert(age_.end(), key);
  }
  Group& group = it->second;
  if (group.parts.count(c->seq) != 0) {
    ++counters_.duplicates;
    result.status = Status::duplicate;
    return result;
  }
  // Make room by giving up the oldest incomplete messages.
  while (bytes_ + part.octets.size() > limits_.max_bytes && !age_.empty()) {
    const auto oldest = groups_.find(age_.front());
    if (oldest == it) break;
    drop(oldest);
    ++counters_.evicted;
  }
  if (bytes_ + part.octets.size() > limits_.max_bytes) {
    ++counters_.rejected;
    return result;
  }
  group.parts.emplace(c->seq, std::make_pair(part.octets, part.fill_bits));
  group.bytes += part.octets.size();
  bytes_ += part.octets.size();

  if (group.parts.size() < c->total) {
    result.status = Status::pending;
    return result;
  }
  result.status = Status::complete;
  result.data_coding = group.data_coding;
  for (auto& [seq, p] : group.parts) {
    result.parts.push_back(std::move(p.first));
    result.fill_bits.push_back(p.second);
  }
  drop(it);
  ++counters_.completed;
  return result;
}

std::size_t Reassembler::expire(Clock::time_point now) {
  std::size_t dropped = 0;
  while (!age_.empty()) {
    const auto it = groups_.find(age_.front());
    if (now - it->second.started < limits_.timeout) break;
    drop(it);
    ++dropped;
  }
  counters_.expired += dropped;
  return dropped;
}

}  // namespace giftgate::smpp

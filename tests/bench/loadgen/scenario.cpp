#include "tests/bench/loadgen/scenario.hpp"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <stdexcept>

#include <fmt/format.h>

namespace giftgate::bench {
namespace {

const char* const kCityNames[Scenario::kCities] = {"beijing", "shanghai", "shenzhen", "nanjing",
                                                   "fuzhou"};

// Steps through the members in an order that spreads over the cities and
// comes back to one member only after every other has had a turn.
constexpr int kStride = 7919;  // prime, so co-prime with any member count it does not divide

std::vector<std::uint8_t> ascii(std::string_view text) { return {text.begin(), text.end()}; }

bool code_letter(char c) { return c >= 'A' && c <= 'Z' && c != 'I' && c != 'O'; }
bool digit(char c) { return c >= '0' && c <= '9'; }

}  // namespace

std::string_view kind_name(Kind kind) {
  switch (kind) {
    case Kind::balance: return "balance";
    case Kind::redeem: return "redeem";
    case Kind::confirm: return "confirm";
    case Kind::verify: return "verify";
    case Kind::garbled: return "garbled";
    case Kind::flood: return "flood";
  }
  return "?";
}

double Latency::percentile(double p) {
  if (samples_.empty()) return 0;
  if (!sorted_) std::sort(samples_.begin(), samples_.end());
  sorted_ = true;
  const auto rank = static_cast<std::size_t>(std::ceil(p / 100.0 * samples_.size()));
  return samples_[std::clamp<std::size_t>(rank, 1, samples_.size()) - 1];
}

double Latency::max() { return samples_.empty() ? 0 : percentile(100); }

std::optional<std::string> find_code(std::string_view text) {
  for (std::size_t i = 0; i + 10 <= text.size(); ++i) {
    if (!code_letter(text[i]) || !code_letter(text[i + 1])) continue;
    if (i > 0 && (code_letter(text[i - 1]) || digit(text[i - 1]))) continue;
    bool ok = true;
    for (std::size_t k = 2; k < 10 && ok; ++k) ok = digit(text[i + k]);
    if (ok && (i + 10 == text.size() || !digit(text[i + 10]))) return std::string(text.substr(i, 10));
  }
  return std::nullopt;
}

Scenario::Scenario(Options options)
    : options_(std::move(options)),
      rng_(options_.seed),
      members_(static_cast<std::size_t>(options_.members)),
      codes_(kCities),
      merchant_turn_(kCities, 0) {
  if (options_.members < kCities || options_.members % kStride == 0)
    throw std::invalid_argument("the member count must be at least 5 and not a multiple of 7919");
}

const char* Scenario::city(int index) { return kCityNames[index % kCities]; }
std::string Scenario::member_msisdn(int index) { return fmt::format("86138{:08}", index); }
std::string Scenario::merchant_msisdn(int city, int k) {
  return fmt::format("86137{:02}{:06}", city, k);
}
std::string Scenario::garbled_msisdn(int index) {
  return fmt::format("86136{:08}", index % kGarbledMembers);
}

void Scenario::write_csv(const std::string& dir, long points) const {
  std::ofstream m(dir + "/members.csv");
  m << "msisdn,city,language,points\n";
  for (int i = 0; i < options_.members; ++i)
    m << member_msisdn(i) << ',' << city(i) << ",zh," << points << '\n';
  for (int i = 0; i < kGarbledMembers; ++i)
    m << garbled_msisdn(i) << ',' << city(i) << ",zh," << points << '\n';
  m << flood_msisdn() << ',' << city(0) << ",zh," << points << '\n';
  std::ofstream s(dir + "/merchants.csv");
  s << "id,name,city,kind,level,phones,offer_a,offer_b,offer_c\n";
  for (int c = 0; c < kCities; ++c)
    for (int k = 0; k < options_.merchants_per_city; ++k)
      s << fmt::format("{}-{},Bench {} {},{},{},middle,{},5 hours,2 hours,1 hour\n", city(c), k,
                       city(c), k, city(c), k % 2 ? "cinema" : "ktv", merchant_msisdn(c, k));
  if (!m || !s) throw std::runtime_error("cannot write the CSV files in " + dir);
}

Mo Scenario::make(Kind kind, const std::string& from, std::string text) {
  Mo mo;
  mo.id = next_id_++;
  mo.kind = kind;
  mo.from = from;
  mo.parts.push_back(ascii(text));
  mo.part_acked.assign(1, false);
  mo.text = std::move(text);
  ++counters_[std::string(kind_name(kind))];
  return mo;
}

int Scenario::pick_member() {
  for (int tries = 0; tries < 64; ++tries) {
    cursor_ = (cursor_ + kStride) % options_.members;
    if (!members_[static_cast<std::size_t>(cursor_)].busy) return cursor_;
  }
  return -1;
}

std::optional<Mo> Scenario::next() {
  if (!confirms_.empty()) {
    const int m = confirms_.front();
    confirms_.pop_front();
    return make(Kind::confirm, member_msisdn(m), "Y");
  }
  if (!new_actions_) return std::nullopt;
  const int roll = static_cast<int>(rng_() % 100);
  if (roll >= options_.balance + options_.redeem) {
    for (int c = 0; c < kCities; ++c) {
      const int city = static_cast<int>((rng_() % kCities));
      if (codes_[static_cast<std::size_t>(city)].empty()) continue;
      auto& pool = codes_[static_cast<std::size_t>(city)];
      const std::string code = pool.back();
      pool.pop_back();
      const int k = merchant_turn_[static_cast<std::size_t>(city)]++ % options_.merchants_per_city;
      return make(Kind::verify, merchant_msisdn(city, k), "HX " + code);
    }
    ++counters_["verify_as_balance"];  // no code to verify yet: a balance ask instead
  }
  const int m = pick_member();
  if (m < 0) return std::nullopt;
  members_[static_cast<std::size_t>(m)].busy = true;
  if (roll >= options_.balance && roll < options_.balance + options_.redeem)
    return make(Kind::redeem, member_msisdn(m), "DH " + options_.tier);
  return make(Kind::balance, member_msisdn(m), "JF");
}

Mo Scenario::garbled(int variant) {
  const std::string from = garbled_msisdn(static_cast<int>(next_id_));
  Mo mo;
  switch (variant % 7) {
    case 0: {  // random octets claimed to be the GSM default alphabet
      std::vector<std::uint8_t> junk(1 + rng_() % 140);
      for (auto& b : junk) b = static_cast<std::uint8_t>(rng_());
      mo = make(Kind::garbled, from, "random octets");
      mo.parts[0] = std::move(junk);
      break;
    }
    case 1:  // UCS-2 with an odd number of octets
      mo = make(Kind::garbled, from, "odd-length UCS-2");
      mo.data_coding = 8;
      mo.parts[0] = {0x00, 0x4A, 0x00};
      break;
    case 2:  // UCS-2 emoji (surrogate pairs) and a lone surrogate
      mo = make(Kind::garbled, from, "emoji");
      mo.data_coding = 8;
      mo.parts[0] = {0xD8, 0x3D, 0xDE, 0x00, 0xD8, 0x3C, 0xDF, 0x81, 0xDC, 0x00};
      break;
    case 3:
      mo = make(Kind::garbled, from, "'; DROP TABLE members; -- JF");
      break;
    case 4: {  // Latin-1 text with high octets
      mo = make(Kind::garbled, from, "latin-1");
      mo.data_coding = 3;
      mo.parts[0] = {'D', 'H', 0xE9, 0xFF, 0xA0, 'A'};
      break;
    }
    case 5: {  // 10,000 characters in 66 UDH parts of 153
      mo = make(Kind::garbled, from, "10000 characters");
      const std::string body(10000, 'x');
      const auto total = static_cast<std::uint8_t>((body.size() + 152) / 153);
      const auto ref = static_cast<std::uint8_t>(next_id_);
      mo.parts.clear();
      for (std::uint8_t seq = 1; seq <= total; ++seq) {
        std::vector<std::uint8_t> part = {0x05, 0x00, 0x03, ref, total, seq};
        const auto chunk = body.substr((seq - 1) * 153u, 153);
        part.insert(part.end(), chunk.begin(), chunk.end());
        mo.parts.push_back(std::move(part));
      }
      mo.part_acked.assign(mo.parts.size(), false);
      break;
    }
    default:  // a UDH whose length runs past the message
      mo = make(Kind::garbled, from, "broken UDH");
      mo.parts[0] = {0x20, 0x00, 0x03, 0x01};
      break;
  }
  return mo;
}

Mo Scenario::flood() { return make(Kind::flood, flood_msisdn(), "JF"); }

void Scenario::first_sent(const Mo& mo, Clock::time_point at, bool sample) {
  if (mo.kind == Kind::garbled || mo.kind == Kind::flood) return;
  int member = -1;
  if (mo.kind != Kind::verify) member = std::stoi(mo.from.substr(5));
  awaited_[mo.from].push_back({mo.kind, at, sample, member});
}

void Scenario::message(const std::string& to, const std::string& text,
                       Clock::time_point first_part_at, Clock::time_point now) {
  (void)now;
  const auto code = find_code(text);
  if (code) ++texts_with_code_[to + '\n' + text];
  if (to == flood_msisdn()) {
    ++counters_["flood_replies"];
    return;
  }
  auto it = awaited_.find(to);
  if (it == awaited_.end() || it->second.empty()) {
    ++counters_["unsolicited"];  // a member told their voucher was used, a help text
    return;
  }
  const Awaited a = it->second.front();
  it->second.pop_front();
  if (it->second.empty()) awaited_.erase(it);
  const double ms = std::chrono::duration<double, std::milli>(first_part_at - a.sent).count();
  if (a.sample) latency_.add(ms);
  if (windowing_) window_.add(ms);
  ++counters_["replies"];
  const auto free_member = [&] {
    if (a.member >= 0) members_[static_cast<std::size_t>(a.member)].busy = false;
  };
  switch (a.kind) {
    case Kind::redeem:
      confirms_.push_back(a.member);  // confirm whatever the offer said
      break;
    case Kind::confirm:
      if (code) {
        codes_[static_cast<std::size_t>(a.member % kCities)].push_back(*code);
        ++counters_["vouchers_received"];
      } else {
        ++counters_["confirm_refused"];
      }
      free_member();
      break;
    default:
      free_member();
      break;
  }
}

std::uint64_t Scenario::awaiting() const {
  std::uint64_t n = 0;
  for (const auto& [who, q] : awaited_) n += q.size();
  return n + confirms_.size();
}

}  // namespace giftgate::bench

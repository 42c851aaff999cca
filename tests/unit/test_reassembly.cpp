#include <doctest/doctest.h>

#include "protocol/charset.hpp"
#include "protocol/gsm7.hpp"
#include "protocol/reassembly.hpp"
#include "protocol/split.hpp"
#include "tests/support/hex.hpp"

using namespace giftgate::smpp;
using namespace std::chrono_literals;
using giftgate::test::from_hex;
using Status = Reassembler::Status;

namespace {

DeliverSm udh_part(const char* udh_hex, std::string_view text) {
  DeliverSm d;
  d.esm_class = esm::udhi;
  d.short_message = from_hex(udh_hex);
  d.short_message.insert(d.short_message.end(), text.begin(), text.end());
  return d;
}

const auto t0 = Reassembler::Clock::time_point{} + 1h;

}  // namespace

TEST_CASE("reassembly: parts with an 8-bit reference, in and out of order") {
  Reassembler r;
  const auto p1 = user_data(udh_part("050003070301", "Hel"));
  const auto p2 = user_data(udh_part("050003070302", "lo "));
  const auto p3 = user_data(udh_part("050003070303", "you"));
  REQUIRE(p2.concatenation);
  CHECK(p2.concatenation->reference == 7);
  CHECK(p2.concatenation->total == 3);
  CHECK(p2.concatenation->seq == 2);
  CHECK(r.add("a", p3, t0).status == Status::pending);
  CHECK(r.add("a", p1, t0).status == Status::pending);
  const auto done = r.add("a", p2, t0);
  REQUIRE(done.status == Status::complete);
  const auto joined = done.joined();
  CHECK(std::string(joined.begin(), joined.end()) == "Hello you");
  CHECK(r.pending_messages() == 0);
  CHECK(r.bytes_held() == 0);
}

TEST_CASE("reassembly: a part delivered twice is not doubled") {
  Reassembler r;
  const auto p1 = user_data(udh_part("050003090201", "ab"));
  CHECK(r.add("a", p1, t0).status == Status::pending);
  CHECK(r.add("a", p1, t0).status == Status::duplicate);
  const auto done = r.add("a", user_data(udh_part("050003090202", "cd")), t0);
  REQUIRE(done.status == Status::complete);
  CHECK(done.joined().size() == 4);
  CHECK(r.counters().duplicates == 1);
}

TEST_CASE("reassembly: 16-bit references, and senders kept apart") {
  Reassembler r;
  const auto a1 = user_data(udh_part("06080412340201", "x"));
  REQUIRE(a1.concatenation);
  CHECK(a1.concatenation->kind == Concatenation::Kind::udh16);
  CHECK(a1.concatenation->reference == 0x1234);
  CHECK(r.add("alice", a1, t0).status == Status::pending);
  // The same reference from another number is another message.
  CHECK(r.add("bob", user_data(udh_part("06080412340202", "y")), t0).status == Status::pending);
  CHECK(r.add("alice", user_data(udh_part("06080412340202", "z")), t0).status ==
        Status::complete);
  CHECK(r.pending_messages() == 1);
}

TEST_CASE("reassembly: SAR parameters") {
  Reassembler r;
  DeliverSm d;
  d.short_message = {'o', 'n', 'e'};
  d.tlvs = {Tlv::u16(tag::sar_msg_ref_num, 300), Tlv::u8(tag::sar_total_segments, 2),
            Tlv::u8(tag::sar_segment_seqnum, 1)};
  const auto part = user_data(d);
  REQUIRE(part.concatenation);
  CHECK(part.concatenation->kind == Concatenation::Kind::sar);
  CHECK(r.add("a", part, t0).status == Status::pending);
  d.short_message = {'t', 'w', 'o'};
  d.tlvs.set(Tlv::u8(tag::sar_segment_seqnum, 2));
  const auto done = r.add("a", user_data(d), t0);
  REQUIRE(done.status == Status::complete);
  const auto joined = done.joined();
  CHECK(std::string(joined.begin(), joined.end()) == "onetwo");
}

TEST_CASE("reassembly: what split() makes comes back whole") {
  SplitOptions options;
  options.reference = 99;
  std::vector<MessagePart> parts;
  const std::string text = "您好！" + std::string(100, 'x') + "积分兑换电子礼券";
  REQUIRE_FALSE(split(text, options, parts));
  REQUIRE(parts.size() == 2);
  Reassembler r;
  Reassembler::Result result;
  for (auto it = parts.rbegin(); it != parts.rend(); ++it) {
    DeliverSm d;
    d.esm_class = it->esm_class;
    d.data_coding = it->data_coding;
    d.short_message = it->short_message;
    result = r.add("a", user_data(d), t0);
  }
  REQUIRE(result.status == Status::complete);
  CHECK(ucs2_decode(result.joined()) == text);
}

TEST_CASE("reassembly: incomplete messages time out") {
  Reassembler::Limits limits;
  limits.timeout = 30s;
  Reassembler r(limits);
  r.add("a", user_data(udh_part("050003010201", "x")), t0);
  r.add("b", user_data(udh_part("050003010201", "y")), t0 + 20s);
  CHECK(r.expire(t0 + 29s) == 0);
  CHECK(r.expire(t0 + 31s) == 1);
  CHECK(r.pending_messages() == 1);
  CHECK(r.expire(t0 + 60s) == 1);
  CHECK(r.counters().expired == 2);
  CHECK(r.bytes_held() == 0);
}

TEST_CASE("reassembly: the memory bound evicts the oldest incomplete message") {
  Reassembler::Limits limits;
  limits.max_bytes = 10;
  Reassembler r(limits);
  CHECK(r.add("a", user_data(udh_part("050003010201", "123456")), t0).status == Status::pending);
  CHECK(r.add("b", user_data(udh_part("050003010201", "abcdef")), t0).status == Status::pending);
  CHECK(r.counters().evicted == 1);
  CHECK(r.bytes_held() == 6);
  // A part larger than the whole bound is refused.
  CHECK(r.add("c", user_data(udh_part("050003010201", "0123456789AB")), t0).status ==
        Status::rejected);
}

TEST_CASE("reassembly: malformed headers and impossible positions") {
  Reassembler r;
  const auto broken = user_data(udh_part("0900030102", "x"));  // UDHL past the end
  CHECK(broken.malformed_udh);
  CHECK_FALSE(broken.concatenation);
  CHECK(r.add("a", broken, t0).status == Status::rejected);
  CHECK(r.add("a", user_data(udh_part("050003010203", "x")), t0).status == Status::rejected);
  CHECK(r.add("a", user_data(udh_part("050003010000", "x")), t0).status == Status::rejected);
  // Other elements (a port address) are skipped.
  const auto ported = user_data(udh_part("0B0504158200000003050201", "hi"));
  REQUIRE(ported.concatenation);
  CHECK(ported.concatenation->seq == 1);
  CHECK(std::string(ported.octets.begin(), ported.octets.end()) == "hi");
}

TEST_CASE("reassembly: packed GSM parts keep their fill bits") {
  SplitOptions options;
  options.alphabet = DefaultAlphabet::gsm7_packed;
  std::vector<MessagePart> parts;
  const std::string text(170, 'g');
  REQUIRE_FALSE(split(text, options, parts));
  Reassembler r;
  Reassembler::Result result;
  for (const auto& p : parts) {
    DeliverSm d;
    d.esm_class = p.esm_class;
    d.short_message = p.short_message;
    result = r.add("a", user_data(d), t0);
  }
  REQUIRE(result.status == Status::complete);
  std::string decoded;
  for (std::size_t i = 0; i < result.parts.size(); ++i)
    decoded += gsm7_decode(gsm7_unpack_all(result.parts[i], result.fill_bits[i]));
  CHECK(decoded == text);
}

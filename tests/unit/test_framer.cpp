#include <doctest/doctest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "protocol/framer.hpp"
#include "tests/support/hex.hpp"

using giftgate::smpp::Framer;
using giftgate::test::from_hex;
using giftgate::test::to_hex;

namespace {

const auto kEnquire = from_hex("00000010 00000015 00000000 00000001");
const auto kSubmitResp = from_hex("00000017 80000004 00000000 00000002 31613262336300");

std::vector<std::uint8_t> stream() {
  std::vector<std::uint8_t> s;
  for (int i = 0; i < 3; ++i) {
    s.insert(s.end(), kEnquire.begin(), kEnquire.end());
    s.insert(s.end(), kSubmitResp.begin(), kSubmitResp.end());
  }
  return s;
}

}  // namespace

TEST_CASE("framer: one octet at a time yields every PDU whole") {
  Framer framer;
  std::vector<std::string> frames;
  for (auto octet : stream()) {
    framer.feed({&octet, 1});
    std::span<const std::uint8_t> frame;
    while (framer.next(frame) == Framer::Status::ready) frames.push_back(to_hex(frame));
  }
  REQUIRE(frames.size() == 6);
  CHECK(frames[0] == to_hex(kEnquire));
  CHECK(frames[5] == to_hex(kSubmitResp));
  CHECK(framer.buffered() == 0);
}

TEST_CASE("framer: many PDUs in one chunk, and chunks that split headers") {
  const auto s = stream();
  for (std::size_t chunk = 1; chunk <= s.size(); ++chunk) {
    Framer framer;
    std::size_t count = 0;
    for (std::size_t at = 0; at < s.size(); at += chunk) {
      const std::size_t n = std::min(chunk, s.size() - at);
      framer.feed({s.data() + at, n});
      std::span<const std::uint8_t> frame;
      while (framer.next(frame) == Framer::Status::ready) ++count;
    }
    CHECK(count == 6);
  }
}

TEST_CASE("framer: reading straight into its buffer") {
  Framer framer;
  const auto s = stream();
  auto space = framer.prepare(s.size());
  std::copy(s.begin(), s.end(), space.begin());
  framer.commit(s.size());
  std::span<const std::uint8_t> frame;
  int count = 0;
  while (framer.next(frame) == Framer::Status::ready) ++count;
  CHECK(count == 6);
}

TEST_CASE("framer: command_length is checked before the body is awaited") {
  SUBCASE("too large: refused from the first four octets") {
    Framer framer(1024);
    const auto header = from_hex("7FFFFFFF");
    framer.feed(header);
    std::span<const std::uint8_t> frame;
    CHECK(framer.next(frame) == Framer::Status::bad_length);
    CHECK(framer.bad_command_length() == 0x7FFFFFFF);
    // Sticky: the stream cannot be trusted again.
    framer.feed(kEnquire);
    CHECK(framer.next(frame) == Framer::Status::bad_length);
  }
  SUBCASE("shorter than a header") {
    Framer framer;
    framer.feed(from_hex("0000000F 00000015 00000000 000000"));
    std::span<const std::uint8_t> frame;
    CHECK(framer.next(frame) == Framer::Status::bad_length);
  }
  SUBCASE("exactly the maximum is accepted") {
    Framer framer(16);
    framer.feed(kEnquire);
    std::span<const std::uint8_t> frame;
    CHECK(framer.next(frame) == Framer::Status::ready);
  }
  SUBCASE("need more until the last octet") {
    Framer framer;
    framer.feed({kSubmitResp.data(), kSubmitResp.size() - 1});
    std::span<const std::uint8_t> frame;
    CHECK(framer.next(frame) == Framer::Status::need_more);
    framer.feed({kSubmitResp.data() + kSubmitResp.size() - 1, 1});
    CHECK(framer.next(frame) == Framer::Status::ready);
  }
}

TEST_CASE("framer: a PDU over the maximum is read past, and the stream goes on") {
  // A deliver_sm of 5,016 octets for a framer taking 1,024: its header is
  // handed over to be answered, its body dropped as it comes, then the
  // next PDU is whole.
  Framer framer(1024, 8192);
  std::vector<std::uint8_t> big = from_hex("00001398 00000005 00000000 0000002A");
  big.resize(5016, 0x55);
  std::vector<std::uint8_t> all = big;
  all.insert(all.end(), kEnquire.begin(), kEnquire.end());
  std::vector<std::string> seen;
  std::span<const std::uint8_t> frame;
  std::size_t fed = 0;
  while (fed < all.size()) {  // in chunks of 700, the last one shorter
    const std::size_t n = std::min<std::size_t>(700, all.size() - fed);
    framer.feed({all.data() + fed, n});
    fed += n;
    CHECK(framer.buffered() <= 1024 + 700);  // never the oversized PDU whole
    for (auto st = framer.next(frame); st != Framer::Status::need_more; st = framer.next(frame)) {
      REQUIRE(st != Framer::Status::bad_length);
      seen.push_back((st == Framer::Status::oversized ? "oversized " : "ready ") + to_hex(frame));
    }
  }
  REQUIRE(seen.size() == 2);
  CHECK(seen[0] == "oversized 0000139800000005000000000000002A");
  CHECK(framer.bad_command_length() == 5016);
  CHECK(seen[1] == "ready " + to_hex(kEnquire));

  SUBCASE("over the skip limit it is a broken stream") {
    Framer strict(1024, 8192);
    strict.feed(from_hex("00002001 00000005 00000000 00000001"));
    CHECK(strict.next(frame) == Framer::Status::bad_length);
  }
  SUBCASE("the header is awaited before anything is said") {
    Framer slow(1024, 8192);
    slow.feed({big.data(), 15});
    CHECK(slow.next(frame) == Framer::Status::need_more);
    slow.feed({big.data() + 15, 1});
    CHECK(slow.next(frame) == Framer::Status::oversized);
    CHECK(frame.size() == 16);
  }
}

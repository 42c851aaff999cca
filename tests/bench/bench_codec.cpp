// Measures the codec: how many PDUs per second are encoded and decoded again,
// over the mix the gateway sees (submits of a UCS-2 message, their responses,
// delivery receipts with TLVs, enquire_link). Run by scripts/bench-codec.sh.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "protocol/codec.hpp"

using namespace giftgate::smpp;

namespace {

std::vector<Pdu> mix() {
  std::vector<Pdu> pdus;
  SubmitSm submit;
  submit.source = {5, 0, "12580"};
  submit.dest = {1, 1, "8613800138000"};
  submit.registered_delivery = registered::receipt;
  submit.data_coding = 8;
  submit.esm_class = esm::udhi;
  submit.short_message.assign(140, 0x4E);
  pdus.push_back(Pdu{status::ok, 1, submit});
  pdus.push_back(Pdu{status::ok, 1, SubmitSmResp{"4f2a9c01", {}}});
  DeliverSm receipt;
  receipt.source = {1, 1, "8613800138000"};
  receipt.dest = {5, 0, "12580"};
  receipt.esm_class = esm::smsc_receipt;
  const std::string text =
      "id:4f2a9c01 sub:001 dlvrd:001 submit date:2611251200 done date:2611251201 "
      "stat:DELIVRD err:000 text:";
  receipt.short_message.assign(text.begin(), text.end());
  receipt.tlvs = {Tlv::c_string(tag::receipted_message_id, "4f2a9c01"),
                  Tlv::u8(tag::message_state, 2)};
  pdus.push_back(Pdu{status::ok, 2, receipt});
  pdus.push_back(Pdu{status::ok, 2, DeliverSmResp{}});
  pdus.push_back(Pdu{status::ok, 3, EnquireLink{}});
  return pdus;
}

}  // namespace

int main(int argc, char** argv) {
  long iterations = 200000;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--iterations") == 0 && i + 1 < argc) {
      iterations = std::strtol(argv[++i], nullptr, 10);
    } else {
      std::fprintf(stderr, "usage: %s [--iterations N]\n", argv[0]);
      return 2;
    }
  }
  if (iterations <= 0) {
    std::fprintf(stderr, "--iterations must be positive\n");
    return 2;
  }
  const auto pdus = mix();
  std::vector<std::uint8_t> buffer;
  Pdu decoded;
  long done = 0;
  const auto start = std::chrono::steady_clock::now();
  for (long i = 0; i < iterations; ++i) {
    for (const Pdu& pdu : pdus) {
      buffer.clear();
      if (encode(pdu, buffer) || decode(buffer, decoded) || !(decoded == pdu)) {
        std::fprintf(stderr, "round trip failed for %s\n",
                     std::string(to_string(pdu.command_id())).c_str());
        return 1;
      }
      ++done;
    }
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("codec round trips: pdus=%ld seconds=%.3f pdus_per_second=%.0f\n", done, seconds,
              done / seconds);
  return 0;
}

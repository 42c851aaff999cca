#include "tests/bench/loadgen/smsc.hpp"

#include <cstdio>

#include <fmt/chrono.h>
#include <fmt/format.h>

#include "protocol/charset.hpp"
#include "protocol/pdu.hpp"

namespace giftgate::bench {
namespace {

using namespace std::chrono_literals;
constexpr int kMaxDeliveries = 100;  // of one part, then the SMSC gives up (and the check says so)

void event(const std::string& line) {
  std::fputs(line.c_str(), stdout);
  std::fputc('\n', stdout);
  std::fflush(stdout);
}

void put32(std::vector<std::uint8_t>& out, std::size_t at, std::uint32_t v) {
  out[at] = static_cast<std::uint8_t>(v >> 24);
  out[at + 1] = static_cast<std::uint8_t>(v >> 16);
  out[at + 2] = static_cast<std::uint8_t>(v >> 8);
  out[at + 3] = static_cast<std::uint8_t>(v);
}

std::vector<std::uint8_t> header(std::uint32_t length, std::uint32_t id, std::uint32_t seq) {
  std::vector<std::uint8_t> out(16, 0);
  put32(out, 0, length);
  put32(out, 4, id);
  put32(out, 12, seq);
  return out;
}

}  // namespace

Smsc::Smsc(boost::asio::io_context& io, Options options, Scenario& scenario)
    : io_(io),
      options_(options),
      scenario_(scenario),
      acceptor_(io, {boost::asio::ip::make_address("127.0.0.1"), options.port}) {}

std::uint16_t Smsc::port() const { return acceptor_.local_endpoint().port(); }

Smsc::Counters& Smsc::Counters::operator+=(const Counters& o) {
  binds += o.binds;
  binds_refused += o.binds_refused;
  closes += o.closes;
  mo_sent += o.mo_sent;
  mo_acked += o.mo_acked;
  pdus_nacked += o.pdus_nacked;
  redeliveries += o.redeliveries;
  submits += o.submits;
  submits_refused += o.submits_refused;
  responses_lost += o.responses_lost;
  in_doubt += o.in_doubt;
  receipts_sent += o.receipts_sent;
  receipts_acked += o.receipts_acked;
  receipts_nacked += o.receipts_nacked;
  receipts_other_bind += o.receipts_other_bind;
  generic_nacks += o.generic_nacks;
  malformed_sent += o.malformed_sent;
  measured_acks += o.measured_acks;
  return *this;
}

void Smsc::start() { accept(); }

bool Smsc::any_bound() const { return has_receiver(); }

bool Smsc::has_receiver() const {
  for (const auto& [id, c] : conns_)
    if (c.wire->bound && c.wire->receives && c.wire->is_open()) return true;
  return false;
}

bool Smsc::can_take() const {
  return !silent_ && unacked_parts_ < options_.max_unacked && has_receiver();
}

void Smsc::start_measuring() {
  measuring_ = true;
  measure_start_ = Clock::now();
  counters_.measured_acks = 0;
}

void Smsc::accept() {
  acceptor_.async_accept([this](boost::system::error_code ec, boost::asio::ip::tcp::socket s) {
    if (ec) return;
    const std::uint64_t id = next_conn_++;
    auto wire = std::make_shared<Wire>(std::move(s), id);
    conns_[id].wire = wire;
    wire->start([this](Wire& w, const smpp::Pdu& p, std::error_code e,
                       const smpp::Header& h) { on_pdu(w, p, e, h); },
                [this](Wire& w) { on_close(w); });
    accept();
  });
}

void Smsc::drop_all() {
  std::vector<std::shared_ptr<Wire>> wires;
  for (auto& [id, c] : conns_) wires.push_back(c.wire);
  for (auto& w : wires) w->close();
}

void Smsc::silent_for(std::chrono::milliseconds d) {
  silent_ = true;
  silent_until_ = Clock::now() + d;
  for (auto& [id, c] : conns_) c.wire->set_silent(true);
}

void Smsc::refuse_binds_for(std::chrono::milliseconds d) {
  refuse_until_ = Clock::now() + d;
  drop_all();
}

void Smsc::throttle_for(std::chrono::milliseconds d) { throttle_until_ = Clock::now() + d; }

Smsc::ConnState* Smsc::receiver_after(std::uint64_t after) {
  ConnState* first = nullptr;
  for (auto& [id, c] : conns_) {
    if (!(c.wire->bound && c.wire->receives && c.wire->is_open())) continue;
    if (id > after) return &c;
    if (!first) first = &c;
  }
  return first;
}

Smsc::ConnState* Smsc::receiver() {
  ConnState* c = receiver_after(last_mo_conn_);
  if (c) last_mo_conn_ = c->wire->id();
  return c;
}

Smsc::ConnState* Smsc::receipt_receiver() {
  ConnState* c = receiver_after(last_receipt_conn_);
  if (c) last_receipt_conn_ = c->wire->id();
  return c;
}

Smsc::BindCounters& Smsc::bind_counters(std::uint64_t conn, std::string kind) {
  int number = 1;
  for (bool taken = true; taken; ++number) {
    taken = false;
    for (const auto& [id, c] : conns_)
      if (id != conn && c.bind && c.wire->is_open() && c.bind->kind == kind &&
          c.bind->number == number)
        taken = true;
    if (!taken) break;
  }
  auto& b = binds_[{kind, number}];
  b.kind = std::move(kind);
  b.number = number;
  ++b.connections;
  return b;
}

void Smsc::on_close(Wire& w) {
  auto it = conns_.find(w.id());
  if (it == conns_.end()) return;
  ConnState& c = it->second;
  // A submit answered whose receipt the daemon had not acknowledged may
  // not have been recorded as sent (the receipt is handled after the
  // answer, and acknowledged only once committed): it may come again.
  if (!c.unbound && c.wire->bound)
    for (const auto& [seq, p] : c.pending)
      if (p.what == Pending::What::receipt) {
        ++counters_.in_doubt;
        if (c.bind) ++c.bind->in_doubt;
      }
  const auto now = Clock::now();
  for (auto& [seq, p] : c.pending) {
    if (p.what == Pending::What::mo_part) {
      --unacked_parts_;
      redeliver_.push_back({p.mo_index, p.part, now + 200ms});
    } else {
      --receipts_in_flight_;
      receipts_.push_back(p.receipt);
    }
  }
  ++counters_.closes;
  event(fmt::format("closed smsc={} conn={} unbound={}", options_.number, w.id(),
                    c.unbound ? 1 : 0));
  // The Wire lives on in its handlers; only the bookkeeping goes.
  boost::asio::post(io_, [this, id = w.id()] { conns_.erase(id); });
}

void Smsc::on_pdu(Wire& w, const smpp::Pdu& pdu, std::error_code ec, const smpp::Header& h) {
  ConnState& c = conns_[w.id()];
  if (ec) {
    if (!(h.command_id & 0x80000000u))
      w.send(smpp::Pdu{smpp::nack_status_for(ec), h.sequence_number, smpp::GenericNack{}});
    return;
  }
  if (const auto* bind = pdu.as<smpp::BindRequest>()) {
    const bool refuse = Clock::now() < refuse_until_;
    smpp::BindResponse resp;
    resp.kind = bind->kind;
    resp.system_id = "loadgen";
    w.send(smpp::Pdu{refuse ? smpp::status::bind_failed : smpp::status::ok, pdu.sequence_number,
                     resp});
    if (refuse) {
      ++counters_.binds_refused;
      return;
    }
    w.bound = true;
    w.receives = bind->kind != smpp::BindKind::transmitter;
    c.bind = &bind_counters(w.id(), std::string(smpp::to_string(bind->kind)));
    ++counters_.binds;
    event(fmt::format("bound smsc={} conn={} bind={} system_id={} kind={}", options_.number, w.id(),
                      c.bind->number, bind->system_id, smpp::to_string(bind->kind)));
    return;
  }
  if (pdu.as<smpp::EnquireLink>()) {
    w.send(smpp::Pdu{smpp::status::ok, pdu.sequence_number, smpp::EnquireLinkResp{}});
    return;
  }
  if (pdu.as<smpp::Unbind>()) {
    c.unbound = true;
    w.send(smpp::Pdu{smpp::status::ok, pdu.sequence_number, smpp::UnbindResp{}});
    return;
  }
  if (pdu.as<smpp::SubmitSm>()) return on_submit(c, pdu);
  if (pdu.as<smpp::DeliverSmResp>() || pdu.as<smpp::GenericNack>()) return on_answer(c, pdu);
}

void Smsc::on_submit(ConnState& c, const smpp::Pdu& pdu) {
  const auto& submit = *pdu.as<smpp::SubmitSm>();
  const auto now = Clock::now();
  ++counters_.submits;
  if (c.bind) ++c.bind->submits;
  bool answered = true;
  std::string id;
  if (now < throttle_until_ || msgqful_left_ > 0) {
    std::uint32_t status = smpp::status::throttled;
    if (now >= throttle_until_) {
      --msgqful_left_;
      status = smpp::status::message_queue_full;
    }
    ++counters_.submits_refused;
    c.wire->send(smpp::Pdu{status, pdu.sequence_number, smpp::SubmitSmResp{}});
    return;  // refused: the member gets nothing from this one
  }
  if (lose_left_ > 0) {  // taken, but the answer never leaves
    --lose_left_;
    ++counters_.responses_lost;
    ++counters_.in_doubt;
    if (c.bind) ++c.bind->in_doubt;
    answered = false;
  } else {
    id = std::to_string(next_message_id_++);
    smpp::SubmitSmResp resp;
    resp.message_id = id;
    c.wire->send(smpp::Pdu{smpp::status::ok, pdu.sequence_number, resp});
  }
  if (submit.service_type == "USSD") return;
  if (answered && (submit.registered_delivery & 0x01)) {
    const Receipt receipt{id, submit.dest.addr};
    if (ConnState* r = receiver_after(c.wire->id())) {
      if (r != &c) ++counters_.receipts_other_bind;
      send_receipt(*r, receipt);
    }
    else receipts_.push_back(receipt);
  }
  const std::string to = submit.dest.addr;
  const smpp::UserData ud = smpp::user_data(submit);
  if (!ud.concatenation) {
    const auto text = smpp::decode_text(ud.data_coding, ud.octets,
                                        smpp::DefaultAlphabet::gsm7_unpacked);
    scenario_.message(to, text.utf8, now, now);
    return;
  }
  const std::string key = fmt::format("{}|{}", to, ud.concatenation->reference);
  first_part_at_.try_emplace(key, now);
  auto result = reassembler_.add(to, ud, now);
  if (result.status != smpp::Reassembler::Status::complete) return;
  const auto text = smpp::decode_text(result.data_coding, result.joined(),
                                      smpp::DefaultAlphabet::gsm7_unpacked);
  const auto first = first_part_at_[key];
  first_part_at_.erase(key);
  scenario_.message(to, text.utf8, first, now);
}

void Smsc::on_answer(ConnState& c, const smpp::Pdu& pdu) {
  auto it = c.pending.find(pdu.sequence_number);
  if (it == c.pending.end()) {
    if (pdu.as<smpp::GenericNack>()) ++counters_.generic_nacks;
    return;
  }
  const Pending p = it->second;
  c.pending.erase(it);
  const bool ok = pdu.command_status == smpp::status::ok && pdu.as<smpp::DeliverSmResp>();
  if (p.what == Pending::What::receipt) {
    --receipts_in_flight_;
    if (ok) {
      ++counters_.receipts_acked;
    } else {
      ++counters_.receipts_nacked;
      receipts_.push_back(p.receipt);
    }
    return;
  }
  --unacked_parts_;
  Mo& mo = mos_[p.mo_index];
  if (!ok) {
    ++counters_.pdus_nacked;
    if (mo.deliveries < kMaxDeliveries)
      redeliver_.push_back({p.mo_index, p.part, Clock::now() + options_.redeliver_after});
    return;
  }
  mo.part_acked[p.part] = true;
  for (bool a : mo.part_acked)
    if (!a) return;
  if (mo.acked) return;
  mo.acked = true;
  ++counters_.mo_acked;
  if (measuring_) ++counters_.measured_acks;
}

void Smsc::send_receipt(ConnState& c, const Receipt& r) {
  const auto stamp = fmt::format("{:%y%m%d%H%M}", std::chrono::system_clock::now());
  const std::string& id = r.id;
  smpp::DeliverSm receipt;
  receipt.source = {1, 1, r.recipient};
  receipt.dest = {0, 0, "12580"};
  receipt.esm_class = smpp::esm::smsc_receipt;
  const auto text = fmt::format("id:{} sub:001 dlvrd:001 submit date:{} done date:{} "
                                "stat:DELIVRD err:000 text:",
                                id, stamp, stamp);
  receipt.short_message.assign(text.begin(), text.end());
  const auto seq = c.wire->next_sequence();
  c.pending[seq] = Pending{Pending::What::receipt, 0, 0, r, Clock::now()};
  ++receipts_in_flight_;
  ++counters_.receipts_sent;
  if (c.bind) ++c.bind->receipts_sent;
  c.wire->send(smpp::Pdu{smpp::status::ok, seq, std::move(receipt)});
}

void Smsc::write_part(ConnState& c, std::size_t mo_index, std::size_t part) {
  Mo& mo = mos_[mo_index];
  const auto now = Clock::now();
  if (mo.deliveries == 0) {
    mo.first_sent = now;
    ++counters_.mo_sent;
    scenario_.first_sent(mo, now, measuring_);
  } else if (part == 0 || mo.parts.size() > 1) {
    ++counters_.redeliveries;
  }
  ++mo.deliveries;
  smpp::DeliverSm d;
  d.source = {1, 1, mo.from};
  d.dest = {0, 0, "12580"};
  d.data_coding = mo.data_coding;
  if (mo.parts.size() > 1) d.esm_class = smpp::esm::udhi;
  d.short_message = mo.parts[part];
  const auto seq = c.wire->next_sequence();
  c.pending[seq] = Pending{Pending::What::mo_part, mo_index, part, {}, now};
  ++unacked_parts_;
  if (c.bind) ++c.bind->mo_pdus;
  c.wire->send(smpp::Pdu{smpp::status::ok, seq, std::move(d)});
}

void Smsc::garbled(int n) {
  ConnState* c = receiver();
  if (!c) return;
  for (int i = 0; i < n; ++i) {
    mos_.push_back(scenario_.garbled(i));
    for (std::size_t part = 0; part < mos_.back().parts.size(); ++part)
      write_part(*c, mos_.size() - 1, part);
  }
}

void Smsc::flood(int n) {
  ConnState* c = receiver();
  if (!c) return;
  for (int i = 0; i < n; ++i) {
    mos_.push_back(scenario_.flood());
    write_part(*c, mos_.size() - 1, 0);
  }
}

int Smsc::malformed(int n) {
  ConnState* c = receiver();
  if (!c) return 0;
  Wire& w = *c->wire;
  for (int i = 0; i < n; ++i) {
    std::vector<std::uint8_t> raw;
    switch (i % 6) {
      case 0:  // an unknown command_id
        raw = header(16, 0x00000777, w.next_sequence());
        break;
      case 1: {  // a deliver_sm cut off inside its mandatory fields
        raw = header(21, 0x00000005, w.next_sequence());
        raw.insert(raw.end(), {'a', 'b', 0, 1, 1});
        break;
      }
      case 2: {  // a deliver_sm whose last TLV claims more octets than there are
        smpp::DeliverSm d;
        d.source = {1, 1, Scenario::garbled_msisdn(900000 + i)};
        d.dest = {0, 0, "12580"};
        d.short_message = {'J', 'F'};
        smpp::encode(smpp::Pdu{smpp::status::ok, w.next_sequence(), d}, raw);
        raw.insert(raw.end(), {0x04, 0x24, 0x01, 0xF4, 'x', 'y', 'z'});
        put32(raw, 0, static_cast<std::uint32_t>(raw.size()));
        break;
      }
      case 3: {  // a deliver_sm whose C-string never ends
        raw = header(16 + 40, 0x00000005, w.next_sequence());
        raw.insert(raw.end(), 40, 'z');
        break;
      }
      case 4:  // a request only an ESME sends, in the wrong direction
        raw = header(16, 0x00000004, w.next_sequence());
        break;
      default: {  // a deliver_sm of 40,000 octets, over the 16 KiB an ESME need take
        raw = header(40000, 0x00000005, w.next_sequence());
        raw.resize(40000, 'x');
        break;
      }
    }
    w.send_raw(raw);
    ++counters_.malformed_sent;
  }
  return n;
}

void Smsc::pump() {
  if (silent_ && Clock::now() >= silent_until_) {
    silent_ = false;
    for (auto& [id, c] : conns_) c.wire->set_silent(false);
  }
  if (silent_ || !has_receiver()) return;
  const auto now = Clock::now();
  for (std::size_t n = receipts_.size(); n > 0; --n) {
    send_receipt(*receipt_receiver(), receipts_.front());
    receipts_.pop_front();
  }
  while (!redeliver_.empty() && redeliver_.front().due <= now) {
    const auto r = redeliver_.front();
    redeliver_.pop_front();
    if (mos_[r.mo_index].part_acked[r.part]) continue;
    write_part(*receiver(), r.mo_index, r.part);
  }
}

void Smsc::send_new(Mo mo) {
  mos_.push_back(std::move(mo));
  ConnState* c = receiver();
  if (!c) {  // not can_take(): written once a receiver binds
    for (std::size_t part = 0; part < mos_.back().parts.size(); ++part)
      redeliver_.push_back({mos_.size() - 1, part, Clock::now()});
    return;
  }
  // Every part on one connection, as an SMSC that holds the message whole.
  for (std::size_t part = 0; part < mos_.back().parts.size(); ++part)
    write_part(*c, mos_.size() - 1, part);
}

}  // namespace giftgate::bench

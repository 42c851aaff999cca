#include "daemon/gateway/boundary.hpp"

#include <fmt/format.h>

#include "daemon/campaign/phone.hpp"
#include "protocol/charset.hpp"
#include "protocol/split.hpp"

namespace giftgate::boundary {
namespace {

bool is_receipt(std::uint8_t esm_class, const smpp::Tlvs& tlvs) {
  return smpp::is_delivery_receipt(esm_class) ||
         (tlvs.has(smpp::tag::receipted_message_id) && tlvs.has(smpp::tag::message_state));
}

}  // namespace

const smpp::DeliverSm* as_deliver_sm(const smpp::Pdu& pdu, smpp::DeliverSm& storage) {
  if (const auto* deliver = pdu.as<smpp::DeliverSm>()) return deliver;
  const auto* data = pdu.as<smpp::DataSm>();
  if (!data) return nullptr;
  storage = smpp::as_deliver_sm(*data);
  return &storage;
}

bool is_receipt(const smpp::DeliverSm& pdu) { return is_receipt(pdu.esm_class, pdu.tlvs); }

std::optional<Arrival> arrival(const smpp::Pdu& pdu) {
  // Read in place: this runs for every PDU, before the message is handled.
  if (const auto* d = pdu.as<smpp::DeliverSm>(); d && !is_receipt(d->esm_class, d->tlvs))
    return Arrival{d->source.addr, d->tlvs.has(smpp::tag::ussd_service_op)};
  if (const auto* ds = pdu.as<smpp::DataSm>(); ds && !is_receipt(ds->esm_class, ds->tlvs))
    return Arrival{ds->source.addr, ds->tlvs.has(smpp::tag::ussd_service_op)};
  return std::nullopt;
}

ReceiptReport receipt_report(const smpp::DeliverSm& pdu, const smpp::DeliveryReceipt& receipt,
                             const smpp::IdReadings& ids, const SmscEntry& smsc,
                             const Config& config) {
  ReceiptReport report;
  report.ids = MessageIds{ids.first, ids.second};
  report.smsc = smsc.id;
  if (smsc.receipt_check_recipient)
    // The original recipient; a source that is no number matches no message.
    report.recipient =
        normalize_msisdn(pdu.source.addr, config.default_country).value_or(std::string());
  report.stat = receipt.state ? std::string(smpp::to_string(*receipt.state)) : "UNKNOWN";
  report.error = receipt.error ? fmt::format("{:03}", *receipt.error) : "";
  report.detail = smpp::failure_details(pdu.tlvs);
  return report;
}

std::string mo_text(std::uint8_t data_coding, std::span<const std::uint8_t> octets,
                    const SmscEntry& smsc) {
  const auto text = smpp::decode_text(data_coding, octets, smsc.alphabet);
  return text.ok ? text.utf8 : std::string();
}

std::optional<UssdMo::Step> ussd_step(std::uint8_t op, const UssdSettings& ussd) {
  if (op == ussd.op_begin) return UssdMo::Step::begin;
  if (op == ussd.op_continue) return UssdMo::Step::answer;
  if (op == ussd.op_abort) return UssdMo::Step::abort;
  return std::nullopt;
}

Mo sms_mo(std::string key, const std::string& sender, std::string text, Time now,
          const std::string& epoch, const SmscEntry& smsc) {
  Mo mo{std::move(key), sender, std::move(text), "sms", now, {}, epoch};
  mo.fingerprint = mo_fingerprint(sender, smsc.source_addr, mo.text);
  return mo;
}

UssdMo ussd_mo(UssdMo::Step step, std::string key, const std::string& sender, std::string text,
               Time now, const smpp::UssdInfo& info) {
  UssdMo mo;
  mo.step = step;
  mo.key = std::move(key);
  mo.msisdn = sender;
  mo.text = std::move(text);
  mo.now = now;
  mo.session_key = info.session_key();
  mo.request_session = smpp::ussd_session_text(info);
  if (info.session)
    mo.fingerprint = mo_fingerprint(
        sender, fmt::format("ussd {} {} {}", *info.session, info.sequence, info.op), mo.text);
  return mo;
}

std::vector<smpp::SubmitSm> submits_for(const Outbound& m, const SmscEntry& smsc,
                                        const Config& config, std::string* why) {
  const auto& daemon = smsc;
  std::vector<smpp::SubmitSm> out;
  smpp::SubmitSm base;
  base.source = {daemon.source_ton, daemon.source_npi, daemon.source_addr};
  base.dest = {1, 1, m.msisdn};
  if (m.ussd_op) {
    // The session of the request this screen answers; the end operation
    // also sets the end flag.
    const auto request = smpp::parse_ussd_session_text(m.ussd_session);
    if (!request) {
      *why = "a USSD screen without a readable session";
      return {};
    }
    base.service_type = "USSD";
    base.registered_delivery = smpp::registered::none;  // no receipts for USSD
    smpp::set_ussd(base, *m.ussd_op, *request, *m.ussd_op == config.ussd.op_end);
    if (!smpp::set_ussd_text(base, m.body, daemon.alphabet)) {
      *why = "a USSD screen that does not fit one PDU";
      return {};
    }
    out.push_back(std::move(base));
    return out;
  }
  smpp::SplitOptions options;
  options.alphabet = daemon.alphabet;
  options.max_parts = 10;
  options.reference = static_cast<std::uint16_t>(m.id);
  std::vector<smpp::MessagePart> parts;
  if (const auto ec = smpp::split(m.body, options, parts); ec || parts.empty()) {
    *why = "cannot split: " + (ec ? ec.message() : std::string("empty"));
    return {};
  }
  for (auto& part : parts) {
    smpp::SubmitSm submit = base;
    submit.registered_delivery = smpp::registered::receipt;
    submit.data_coding = part.data_coding;
    submit.esm_class = part.esm_class;
    submit.short_message = std::move(part.short_message);
    submit.tlvs = std::move(part.tlvs);
    out.push_back(std::move(submit));
  }
  return out;
}

}  // namespace giftgate::boundary

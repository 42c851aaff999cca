// The one place where PDUs become the campaign's messages and messages
// become PDUs: pure functions of their input and the configuration, no
// socket, no database, no state. The gateway calls them; tests call them
// directly (tests/unit/test_boundary.cpp).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "daemon/campaign/outbox.hpp"
#include "daemon/campaign/service.hpp"
#include "daemon/config/config.hpp"
#include "protocol/pdu.hpp"
#include "protocol/receipt.hpp"
#include "protocol/ussd.hpp"

namespace giftgate::boundary {

// A deliver_sm as it is, or a data_sm read as one (its text in
// message_payload, the same guarantees); null for any other PDU. `storage`
// holds the converted data_sm and must outlive the result.
const smpp::DeliverSm* as_deliver_sm(const smpp::Pdu& pdu, smpp::DeliverSm& storage);

// A delivery receipt by its esm_class, or (data_sm receipts from some
// SMSCs) by the two parameters only a receipt carries.
bool is_receipt(const smpp::DeliverSm& pdu);

// What admission needs of an inbound PDU that is a member's message (not a
// receipt): the sender's address as sent, and whether it is a USSD step.
struct Arrival {
  std::string sender;
  bool ussd = false;
};
std::optional<Arrival> arrival(const smpp::Pdu& pdu);

// What the outbox matches a receipt by: the message id as read both ways
// (see smpp::IdFormatLearner), the recipient when checked, the state, the
// error and the failure details.
// `smsc`: the entry it came from (ids are unique per SMSC only).
ReceiptReport receipt_report(const smpp::DeliverSm& pdu, const smpp::DeliveryReceipt& receipt,
                             const smpp::IdReadings& ids, const SmscEntry& smsc,
                             const Config& config);

// The text of an MO in UTF-8; empty when its coding cannot be read (the
// service answers such a text with help).
// (`smsc`: the entry it came from, whose default alphabet applies.)
std::string mo_text(std::uint8_t data_coding, std::span<const std::uint8_t> octets,
                    const SmscEntry& smsc);

// The step a USSD operation is (ussd.operations); nullopt: one not served.
std::optional<UssdMo::Step> ussd_step(std::uint8_t op, const UssdSettings& ussd);

// A text MO for the service; `key` is unique to this delivery, `epoch` the
// connection it came on.
Mo sms_mo(std::string key, const std::string& sender, std::string text, Time now,
          const std::string& epoch, const SmscEntry& smsc);

// A USSD step for the service.
UssdMo ussd_mo(UssdMo::Step step, std::string key, const std::string& sender, std::string text,
               Time now, const smpp::UssdInfo& info);

// The PDUs of one outbound message: its SMS parts (each asking for a
// receipt), or one USSD screen in the session of the request it answers.
// Empty, with `why`, when it cannot be sent at all. `smsc`: the entry it
// goes through (its source address and alphabet).
std::vector<smpp::SubmitSm> submits_for(const Outbound& m, const SmscEntry& smsc,
                                        const Config& config, std::string* why);

}  // namespace giftgate::boundary

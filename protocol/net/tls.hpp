// The TLS client context of one bind: TLS 1.2 or later, the SMSC's
// certificate verified (unless the settings say not to, which is logged),
// and a client certificate when the SMSC asks for one.
//
// Contract: false, after logging which file, when the CA bundle or the
// client certificate cannot be loaded; the session then fails every
// connection attempt with tls_handshake_failed rather than connect with
// less checking than configured.
#pragma once

#include <boost/asio/ssl/context.hpp>

#include "protocol/log.hpp"
#include "protocol/net/settings.hpp"

namespace giftgate::smpp {

bool configure_tls_context(boost::asio::ssl::context& context, const SessionSettings& settings,
                           const log::Logger& log);

}  // namespace giftgate::smpp

#include "protocol/net/tls.hpp"

namespace giftgate::smpp {

namespace ssl = boost::asio::ssl;

bool configure_tls_context(ssl::context& context, const SessionSettings& s,
                           const log::Logger& log) {
  bool ok = true;
  boost::system::error_code ec;
  context.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                          ssl::context::no_sslv3 | ssl::context::no_tlsv1 |
                          ssl::context::no_tlsv1_1,
                      ec);
  if (s.tls.verify) {
    context.set_verify_mode(ssl::verify_peer, ec);
    if (s.tls.ca_file.empty()) context.set_default_verify_paths(ec);
    else context.load_verify_file(s.tls.ca_file, ec);
    if (ec) {
      log.error("smpp_tls_ca", {{"file", s.tls.ca_file}, {"error", ec.message()}});
      ok = false;
    }
  } else {
    context.set_verify_mode(ssl::verify_none, ec);
    log.warning("smpp_tls_unverified", {{"host", s.host}});
  }
  if (!s.tls.cert_file.empty()) {
    context.use_certificate_chain_file(s.tls.cert_file, ec);
    if (!ec) context.use_private_key_file(s.tls.key_file, ssl::context::pem, ec);
    if (ec) {
      log.error("smpp_tls_client_cert", {{"file", s.tls.cert_file}, {"error", ec.message()}});
      ok = false;
    }
  }
  return ok;
}

}  // namespace giftgate::smpp

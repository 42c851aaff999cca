// The HTTP API's and the console's requests on the gateway's thread: each
// joins the open batch like an MO, and is answered only once the batch is
// on disk. A console sign-in's password is checked on the KDF thread in
// between.
#include <boost/asio/post.hpp>

#include "daemon/gateway/gateway.hpp"

namespace giftgate {

void Gateway::serve_api(http::Request request, http::Respond respond) {
  boost::asio::post(io_, [this, request = std::move(request),
                          respond = std::move(respond)]() mutable {
    if (stopping_) {
      respond(http::error_response(503, "stopping", "giftgated is stopping; try again later"));
      return;
    }
    if (request.target.starts_with("/console")) {
      serve_console(std::move(request), std::move(respond));
      return;
    }
    batch_.join();
    auto response = api_.handle(request, now(), std::chrono::steady_clock::now());
    // A voucher's note or a sign-in code may be queued: look at the outbox.
    outbox_dirty_ = true;
    answer_after_commit(std::move(response), std::move(respond));
  });
}

void Gateway::answer_after_commit(http::Response response, http::Respond respond) {
  batch_.after_commit([respond = std::move(respond),
                       response = std::move(response)](bool committed) mutable {
    if (committed) respond(std::move(response));
    else
      respond(http::error_response(503, "busy",
                                   "the database refused the change; nothing was done: try again"));
  });
}

void Gateway::serve_console(http::Request request, http::Respond respond) {
  batch_.join();
  auto answer = console_.handle(request, now());
  // A desk action may queue a voucher's SMS again.
  outbox_dirty_ = true;
  if (auto* response = std::get_if<http::Response>(&answer)) {
    answer_after_commit(std::move(*response), std::move(respond));
    return;
  }
  boost::asio::post(kdf_, [this, request = std::move(request), respond = std::move(respond),
                           check = std::get<console::PasswordCheck>(std::move(answer))]() mutable {
    const bool ok = password_matches(check.password, check.credential.hash);
    boost::asio::post(io_, [this, ok, request = std::move(request), respond = std::move(respond),
                            check = std::move(check)]() mutable {
      if (stopping_) {
        respond(http::error_response(503, "stopping", "giftgated is stopping; try again later"));
        return;
      }
      batch_.join();
      answer_after_commit(console_.finish_sign_in(request, check, ok, now()), std::move(respond));
    });
  });
}

}  // namespace giftgate

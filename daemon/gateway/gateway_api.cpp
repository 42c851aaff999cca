// The HTTP API's requests on the gateway's thread: each joins the open
// batch like an MO, and is answered only once the batch is on disk.
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
    batch_.join();
    auto response = api_.handle(request, now(), std::chrono::steady_clock::now());
    // A voucher's note or a sign-in code may be queued: look at the outbox.
    outbox_dirty_ = true;
    batch_.after_commit([respond = std::move(respond),
                         response = std::move(response)](bool committed) mutable {
      if (committed) respond(std::move(response));
      else
        respond(http::error_response(503, "busy",
                                     "the database refused the change; nothing was done: try again"));
    });
  });
}

}  // namespace giftgate

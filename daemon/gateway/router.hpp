// Which connection an outbound message goes through, when the daemon holds
// several binds to one or several SMSCs. No sockets and no clock: the
// gateway hands it what each connection can take now.
//
// Contract of pick():
// - It returns a bound connection, or nothing when none may take the
//   message; it never returns a connection that is down.
// - A USSD screen that names its route goes only through that SMSC (and
//   through that bind when the route names one): the centre keeps the
//   dialogue there. It goes even when the connection has no room left (its
//   member is looking at the phone; the session queues it); it gets nothing
//   when its connection is down, and the caller gives it back.
// - A reply goes through the SMSC its MO came from while prefer_origin and
//   one of that SMSC's connections has room.
// - Everything else goes through the connection with the most room. Ties
//   are broken in turn, so an idle gateway spreads evenly over its binds.
// - All parts of a message go through the one connection picked.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

namespace giftgate {

class Router {
 public:
  // One connection as the router sees it.
  struct Connection {
    std::string smsc;      // the SMSC entry's id
    int bind = 1;          // from 1 within the entry
    bool bound = false;
    std::size_t room = 0;  // parts it may still be given now
  };
  // Where a message wants to go, read from the outbox's route.
  struct Wanted {
    std::string smsc;         // empty: anywhere
    std::optional<int> bind;  // a USSD screen kept on its bind
    bool required = false;    // a USSD screen: only there
  };
  // route: "ID", "ID#BIND" or empty (see Outbox: the MO's origin).
  static Wanted wanted(const std::string& route, bool ussd, bool prefer_origin);
  // The route a message caused by an MO on this connection records.
  static std::string route_of(const std::string& smsc, int bind, bool keep_bind);

  // The connection for a message of `parts` parts, by index into
  // `connections`; its room is lowered by `parts` (to 0 at least).
  std::optional<std::size_t> pick(std::vector<Connection>& connections, const Wanted& wanted,
                                  std::size_t parts);

 private:
  std::size_t next_ = 0;  // where the search for a tie starts next time
};

}  // namespace giftgate

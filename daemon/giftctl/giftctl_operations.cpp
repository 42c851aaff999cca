// giftctl's operations commands: resending messages, trying templates, and
// asking the running daemon to reload.
#include <signal.h>

#include <cerrno>
#include <cstring>
#include <iostream>

#include "daemon/storage/daemon_lock.hpp"
#include "daemon/giftctl/giftctl.hpp"
#include "daemon/campaign/outbox.hpp"
#include "daemon/campaign/templates.hpp"
#include "daemon/campaign/ussd_menus.hpp"
#include "daemon/campaign/voucher_code.hpp"
#include "protocol/split.hpp"
#include "protocol/utf8.hpp"

namespace giftgate::ctl {

// --- messages ------------------------------------------------------------

int Ctl::resend() {
  if (args_.words.size() != 2) return usage("resend needs a voucher code or an outbox message id");
  std::string key = args_.words[1];
  std::string code;
  if (check_voucher_code(key, &code) == CodeCheck::ok) key = code;
  else if (key.find_first_not_of("0123456789") != std::string::npos)
    return usage(fmt::format("'{}' is neither a voucher code nor a message id", key));
  Outbox outbox(*db_, ResendPolicy{});
  const auto now = std::chrono::time_point_cast<std::chrono::seconds>(
      std::chrono::system_clock::now());
  const auto resent = outbox.resend(key, actor(), now);
  switch (resent.status) {
    case Outbox::Resent::Status::queued: break;
    case Outbox::Resent::Status::not_found: return refused(fmt::format("no message for {}", key));
    case Outbox::Resent::Status::body_pruned:
      return refused(fmt::format("message {} cannot be sent again: its text was pruned "
                                 "(retention.message_days)",
                                 resent.id));
    case Outbox::Resent::Status::failed:
      return refused(fmt::format("the database refused: {}", resent.error));
  }
  fmt::print("message {} queued again; giftgated sends it at once\n", resent.id);
  return kOk;
}

// --- templates -----------------------------------------------------------

int Ctl::templates() {
  const std::string sub = args_.words.size() > 1 ? args_.words[1] : "";
  std::string error;
  if (sub == "check" && has("menus")) {
    if (args_.words.size() > 3) return usage("templates check --menus takes one file");
    const std::string path = args_.words.size() == 3 ? args_.words[2] : config_.ussd.menus_path;
    const UssdLimits limits = ussd_limits(config_.ussd);
    if (!UssdMenus::load(path, limits, &error)) {
      fmt::print(stderr, "giftctl: {}\n", escape_text(error));
      return kUsage;
    }
    fmt::print("{}: ok, every USSD screen in zh and en within {} GSM or {} UCS-2 characters\n",
               path, limits.gsm_chars, limits.ucs2_chars);
    return kOk;
  }
  if (sub == "check") {
    if (args_.words.size() > 3) return usage("templates check takes one file");
    const std::string path = args_.words.size() == 3 ? args_.words[2] : config_.templates_path;
    const auto checked = Templates::load(path, config_.max_parts, &error);
    if (!checked) {
      fmt::print(stderr, "giftctl: {}\n", escape_text(error));
      return kUsage;
    }
    const auto pushes = checked->names_starting("push_");
    fmt::print("{}: ok, {} messages in zh and en, each within {} SMS parts; push texts: {}\n",
               path, Templates::catalogue().size(), config_.max_parts,
               pushes.empty() ? std::string("none") : fmt::format("{}", fmt::join(pushes, ", ")));
    return kOk;
  }
  if (sub != "render" || args_.words.size() < 3)
    return usage("templates check [FILE] | templates render NAME [key=value ...]");
  const std::string path = has("file") ? option("file") : config_.templates_path;
  const auto t = Templates::load(path, config_.max_parts, &error);
  if (!t) {
    fmt::print(stderr, "giftctl: {}\n", escape_text(error));
    return kUsage;
  }
  const std::string& name = args_.words[2];
  if (!t->has(name)) return usage(fmt::format("no message '{}' in {}", name, path));
  const std::string language = has("lang") ? option("lang") : "zh";
  if (language != "zh" && language != "en") return usage("--lang must be zh or en");
  TemplateValues values;
  for (std::size_t i = 3; i < args_.words.size(); ++i) {
    const auto& kv = args_.words[i];
    const auto eq = kv.find('=');
    if (eq == std::string::npos || eq == 0)
      return usage(fmt::format("'{}' is not key=value", kv));
    values.emplace_back(kv.substr(0, eq), kv.substr(eq + 1));
  }
  const std::string text = t->render(name, language, values);
  smpp::SplitOptions split;
  fmt::print("{}\n-- {} characters, {} SMS part(s)\n", text, utf8::length(text),
             smpp::count_parts(text, split));
  return kOk;
}

// --- reload --------------------------------------------------------------

int Ctl::reload() {
  if (args_.words.size() != 1) return usage("reload takes no arguments");
  // What the daemon would load, checked here first so the operator hears
  // of a mistake now rather than from the daemon's log.
  std::string error;
  const bool ok =
      Templates::load(config_.templates_path, config_.max_parts, &error) &&
      (!config_.ussd.enabled || UssdMenus::load(config_.ussd, &error));
  if (!ok) {
    fmt::print(stderr, "giftctl: {}\ngiftctl: giftgated was not asked to reload\n",
               escape_text(error));
    return kUsage;
  }
  // The daemon is the process holding its database's lock, as the kernel
  // says: not a name in /proc (any program can be called giftgated) nor a
  // number in a file (a stale file names whatever process got it since).
  const auto pid = DaemonLock::holder(config_.db_path, &error);
  if (!pid) return refused(fmt::format("{}; nothing was signalled", error));
  if (::kill(*pid, SIGHUP) != 0)
    return refused(fmt::format("signalling giftgated (pid {}): {}", *pid, std::strerror(errno)));
  fmt::print("giftgated (pid {}) asked to reload {}, {}{}; its log says event=reloaded\n", *pid,
             config_.source, config_.templates_path,
             config_.ussd.enabled ? " and " + config_.ussd.menus_path : std::string());
  return kOk;
}

}  // namespace giftgate::ctl

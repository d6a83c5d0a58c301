// `ocpp check`: runs the edge-case catalogue against any CSMS and reports each check; exit 1 when
// one fails.
#include <unistd.h>

#include <iostream>

#include "commands.hpp"
#include "catalogue.hpp"
#include "report.hpp"

namespace ocpp::app {

int check(const CheckArgs& args) {
  auto url = parse_ws_url(args.url);
  if (!url) throw UsageError("--url must be ws://host:port[/path] or wss://...");
  if (protocol_version(args.protocol) == ProtocolVersion::other)
    throw UsageError("--protocol must be ocpp1.6, ocpp2.0.1 or ocpp2.1");
  if (args.cert.empty() != args.key.empty()) throw UsageError("--cert and --key go together");
  if (!args.cert.empty() && !url->secure) throw UsageError("--cert needs a wss:// URL");
  if (args.profile >= 0) {
    // The profile says which credentials the server expects; a misfit is bad usage.
    const bool secure = args.profile >= 2, password = args.profile == 1 || args.profile == 2;
    if (url->secure != secure) throw UsageError("--profile " + std::to_string(args.profile) + " needs a " +
                                                (secure ? "wss://" : "ws://") + " URL");
    if (password && args.password.empty())
      throw UsageError("--profile " + std::to_string(args.profile) + " needs --password");
    if (args.profile == 3 && args.cert.empty()) throw UsageError("--profile 3 needs --cert and --key");
  }
  conformance::Settings settings;
  settings.target.url = *url;
  settings.target.identity = args.identity;
  settings.target.password = args.password;
  settings.target.cert = args.cert;
  settings.target.key = args.key;
  settings.target.ca = args.ca;
  settings.target.timeout = std::chrono::milliseconds(args.timeout_ms);
  settings.protocol = args.protocol;
  const std::string format = args.json ? "json" : args.report;
  auto reporter = conformance::make_reporter(format, std::cout, format == "text" && isatty(STDOUT_FILENO) != 0,
                                       args.url + " " + args.protocol);
  const auto checks = conformance::catalogue(settings);
  std::vector<conformance::Result> results;
  for (std::size_t i = 0; i < checks.size(); ++i) {
    reporter->started(i, checks.size(), checks[i]);
    conformance::Result r{checks[i].id, checks[i].clause, checks[i].title, {}};
    try {
      r.outcome = checks[i].run(settings);
    } catch (const std::exception& e) {
      // A check that cannot even be made (unreadable certificate, ...) fails with the reason.
      r.outcome.got = std::string("the check could not run: ") + e.what();
    }
    reporter->finished(r);
    results.push_back(std::move(r));
  }
  reporter->done(results);
  for (const auto& r : results)
    if (!r.outcome.pass) return 1;
  return 0;
}

}  // namespace ocpp::app

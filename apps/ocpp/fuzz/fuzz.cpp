// `ocpp fuzz`: sends generated frames over live connections to any OCPP-J server and reports what
// it did wrong, each finding with the seed and connection that replay it.
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <iostream>
#include <sstream>

#include "commands.hpp"
#include "fuzz/campaign.hpp"
#include "progress.hpp"

namespace ocpp::app {
namespace {

std::string replay_command(const FuzzArgs& args, std::uint64_t seed, std::uint64_t connection) {
  std::ostringstream out;
  out << "ocpp fuzz --url " << args.url << " --seed " << seed << " --protocol " << args.protocols;
  if (args.strict) out << " --strict";
  out << " --replay " << connection;
  return out.str();
}

std::string describe(const wire_fuzz::Finding& f) {
  std::string where = f.connection ? "connection " + std::to_string(*f.connection) : f.kind == "crash" ? "server" : "liveness probe";
  if (f.case_index) where += ", case " + std::to_string(*f.case_index);
  if (!f.case_kind.empty()) where += " (" + f.case_kind + ")";
  return "[" + f.kind + "] " + where + ": " + f.detail;
}

std::vector<std::string> split_list(const std::string& s) {
  std::vector<std::string> out;
  std::istringstream in(s);
  for (std::string item; std::getline(in, item, ',');)
    if (!item.empty()) out.push_back(item);
  return out;
}

}  // namespace

int fuzz(const FuzzArgs& args) {
  wire_fuzz::CampaignOptions o;
  try {
    o.endpoint = wire_fuzz::parse_endpoint(args.url);
  } catch (const std::invalid_argument& e) {
    throw UsageError(e.what());
  }
  o.seed = args.seed;
  o.protocols = split_list(args.protocols);
  for (const auto& p : o.protocols)
    if (p != "ocpp1.6" && p != "ocpp2.0.1" && p != "ocpp2.1") throw UsageError("--protocol: no OCPP protocol " + p);
  if (o.protocols.empty()) throw UsageError("--protocol: none given");
  o.answer_timeout = std::chrono::milliseconds(args.answer_timeout_ms);
  o.strict = args.strict;
  wire_fuzz::Campaign campaign(o);
  const auto& c = campaign.counters();

  std::size_t printed = 0;
  if (args.replay) {
    campaign.run_connection(*args.replay, [](const std::string& line) { std::cerr << line << "\n"; });
  } else {
    const auto on_finding = [&](const wire_fuzz::Finding& f) {
      // Called under the campaign's lock: the count is the findings' own.
      static constexpr std::size_t kPrinted = 20;
      if (++printed > kPrinted) return;
      std::cerr << "ocpp fuzz: FINDING " << describe(f);
      if (f.connection) std::cerr << "\n  replay: " << replay_command(args, args.seed, *f.connection);
      std::cerr << (printed == kPrinted ? "\nocpp fuzz: later findings are counted, not printed (--json lists all)\n" : "\n");
    };
    const auto t0 = wire_fuzz::Clock::now();
    std::atomic<bool> stop{false};
    std::thread worker([&] { campaign.run(args.connections, stop, on_finding); });
    {
      Progress progress("ocpp fuzz", [&] {
        const auto s = std::chrono::duration_cast<std::chrono::seconds>(wire_fuzz::Clock::now() - t0).count();
        return std::to_string(s) + "/" + std::to_string(args.duration) + " s, " + std::to_string(c.connections) +
               " connections, " + std::to_string(c.cases) + " cases, " + std::to_string(c.answers) + " answers, " +
               std::to_string(c.expected_closes) + " expected closes, " + std::to_string(campaign.findings().size()) +
               " findings";
      });
      const auto deadline = t0 + std::chrono::seconds(args.duration);
      while (wire_fuzz::Clock::now() < deadline && !campaign.server_gone())
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      stop = true;
      worker.join();
    }
  }

  const auto findings = campaign.findings();
  if (args.json) {
    boost::json::array list;
    for (const auto& f : findings) {
      boost::json::object item{{"kind", f.kind}, {"case_kind", f.case_kind}, {"detail", f.detail}};
      if (f.connection) {
        item["connection"] = *f.connection;
        item["replay"] = replay_command(args, args.seed, *f.connection);
      }
      if (f.case_index) item["case"] = *f.case_index;
      list.push_back(std::move(item));
    }
    boost::json::object out{{"seed", args.seed},
                            {"connections", c.connections.load()},
                            {"refused_upgrades", c.refused_upgrades.load()},
                            {"cases", c.cases.load()},
                            {"bytes", c.bytes.load()},
                            {"answers", c.answers.load()},
                            {"expected_closes", c.expected_closes.load()},
                            {"pongs", c.pongs.load()},
                            {"liveness_checks", c.liveness_checks.load()},
                            {"findings", std::move(list)}};
    std::cout << boost::json::serialize(out) << "\n";
  } else {
    if (args.replay)
      for (const auto& f : findings) std::cout << "ocpp fuzz: FINDING " << describe(f) << "\n";
    std::cout << "ocpp fuzz: seed " << args.seed << ", " << c.connections << " connections, " << c.cases << " cases ("
              << c.bytes << " bytes), " << c.answers << " answers, " << c.expected_closes << " expected closes, "
              << c.pongs << " pongs, " << c.liveness_checks << " liveness checks, " << findings.size() << " findings\n";
  }
  if (c.connections == 0 && findings.empty()) {
    // Nothing was fuzzed: a wrong path or a server that turns every upgrade away is no pass.
    std::cerr << "ocpp fuzz: no connection was upgraded (" << c.refused_upgrades << " refused)\n";
    return 1;
  }
  return findings.empty() ? 0 : 1;
}

}  // namespace ocpp::app

#pragma once
// A fuzzing campaign: workers that each run one connection's plan after another, and a liveness
// probe that keeps opening a fresh connection with a valid Heartbeat. Findings name the seed and
// the connection whose plan reproduces them.
#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "fuzz/wire_socket.hpp"
#include "ocpp/rpc/frame.hpp"

namespace ocpp::app::wire_fuzz {

struct CampaignOptions {
  WsUrl endpoint;
  std::uint64_t seed = 0;
  std::vector<std::string> protocols;
  std::chrono::milliseconds answer_timeout{5000};
  std::chrono::milliseconds liveness_interval{1000};
  bool strict = false;  // the server validates payloads: a schema-invalid CALL must get a CALLERROR
};

struct Finding {
  std::string kind;  // "crash", "hang", "close", "spec", "liveness"
  std::optional<std::uint64_t> connection;  // absent for the liveness probe
  std::optional<std::size_t> case_index;
  std::string case_kind;
  std::string detail;
};

struct Counters {
  std::atomic<std::uint64_t> connections{0}, refused_upgrades{0}, cases{0}, bytes{0}, answers{0},
      expected_closes{0}, pongs{0}, liveness_checks{0};
};

class Campaign {
 public:
  explicit Campaign(CampaignOptions options) : options_(std::move(options)) {}

  // Runs connection `index`'s plan once. `trace` (if set) gets a line per case and server event.
  void run_connection(std::uint64_t index, const std::function<void(const std::string&)>& trace = {});
  // One fresh connection and a Heartbeat that must be answered; a failure is a finding.
  void probe_liveness();
  // Workers and the probe until `stop` is set or a finding says the server is gone.
  void run(std::size_t workers, const std::atomic<bool>& stop, const std::function<void(const Finding&)>& on_finding);

  const Counters& counters() const { return counters_; }
  std::vector<Finding> findings() const;
  bool server_gone() const { return server_gone_; }

 private:
  void report(Finding f);
  // A refused TCP connection: the server crashed or stopped listening; the run ends.
  void report_refused(const ConnectError& e);
  // What a connection offers, and whether it ends with a TCP reset instead of a FIN.
  struct Traits {
    std::string protocol;
    bool reset;
  };
  Traits traits_of(std::uint64_t index) const;

  CampaignOptions options_;
  Counters counters_;
  std::atomic<std::uint64_t> next_connection_{0};
  std::atomic<std::uint64_t> probes_{0};
  std::size_t workers_ = 1;
  std::atomic<bool> server_gone_{false};
  std::atomic<bool> upgraded_once_{false};  // by a fuzzing connection or the probe
  mutable std::mutex mutex_;
  std::vector<Finding> findings_;
  std::function<void(const Finding&)> on_finding_;
};

}  // namespace ocpp::app::wire_fuzz

#include "fuzz/campaign.hpp"

#include <condition_variable>
#include <thread>

#include "fuzz/verdict.hpp"
#include "generators/wire_cases.hpp"
#include "ocpp/rpc/protocol.hpp"

namespace ocpp::app::wire_fuzz {

Campaign::Traits Campaign::traits_of(std::uint64_t index) const {
  // Their own stream, so that they do not shift the cases' draws.
  fuzzgen::Rng rng(options_.seed ^ 0x70726f746fULL, index);
  const auto& protocol = rng.pick(options_.protocols);
  return {protocol, rng.chance(50)};
}

void Campaign::report(Finding f) {
  std::lock_guard lock(mutex_);
  findings_.push_back(f);
  if (on_finding_) on_finding_(findings_.back());
}

void Campaign::report_refused(const ConnectError& e) {
  if (server_gone_.exchange(true)) return;  // one finding, not one per worker
  if (!upgraded_once_) {
    report({"crash", {}, {}, {}, std::string("nothing accepts connections at the URL (") + e.what() + ")"});
    return;
  }
  // The connection refused sent nothing: one of those just before it is the suspect.
  const std::uint64_t last = next_connection_ ? next_connection_ - 1 : 0, first = last > workers_ * 2 ? last - workers_ * 2 : 0;
  report({"crash", {}, {}, {},
          std::string("the server stopped accepting connections (") + e.what() + ") during connections " +
              std::to_string(first) + ".." + std::to_string(last) + ": replay each with --replay"});
}

std::vector<Finding> Campaign::findings() const {
  std::lock_guard lock(mutex_);
  return findings_;
}

void Campaign::run_connection(std::uint64_t index, const std::function<void(const std::string&)>& trace) {
  const auto [protocol, reset] = traits_of(index);
  const auto plan = fuzzgen::connection_plan(options_.seed, index, protocol);
  const auto fail = [&](std::optional<std::size_t> at, std::string kind, std::string detail) {
    report({std::move(kind), index, at, at && *at < plan.size() ? plan[*at].kind : "", std::move(detail)});
  };
  std::optional<WireSocket> socket;
  try {
    socket.emplace(options_.endpoint, "fuzz" + std::to_string(index), protocol, options_.answer_timeout);
  } catch (const ConnectError& e) {
    if (e.refused) {
      report_refused(e);
    } else {
      ++counters_.refused_upgrades;  // a busy or limiting server may turn some connections away
      if (trace) trace("upgrade failed: " + std::string(e.what()));
    }
    return;
  }
  ++counters_.connections;
  upgraded_once_ = true;
  if (reset) socket->reset_on_close();
  if (socket->protocol() != protocol) {
    fail(std::nullopt, "spec", "101 with subprotocol \"" + socket->protocol() + "\" to an offer of " + protocol);
    return;
  }
  if (trace) trace("connection " + std::to_string(index) + " (" + protocol + "): " + std::to_string(plan.size()) + " cases");
  const JudgeContext context{protocol_version(protocol), options_.strict, options_.answer_timeout, counters_, trace};
  bool closed = false;
  for (std::size_t k = 0; k < plan.size() && !closed; ++k) {
    const auto& c = plan[k];
    if (trace) {
      std::string bytes;
      for (const auto& w : c.writes) bytes += w;
      trace("case " + std::to_string(k) + " " + c.kind + ": " + fuzzgen::describe(bytes));
    }
    bool sent = true;
    for (const auto& bytes : c.writes) {
      sent = sent && socket->send(bytes);
      counters_.bytes += bytes.size();
    }
    ++counters_.cases;
    if (c.last) socket->seal();
    auto verdict = judge(*socket, c, sent, context);
    if (verdict.finding) {
      verdict.finding->connection = index;
      verdict.finding->case_index = k;
      verdict.finding->case_kind = c.kind;
      report(std::move(*verdict.finding));
      return;
    }
    closed = verdict.closed || c.last;
  }
  if (closed) return;
  // Still open: it must still answer a valid CALL, then close cleanly when asked.
  fuzzgen::Rng rng(options_.seed, ~index);
  auto end = fuzzgen::valid_case(rng, "c" + std::to_string(index) + "-end", fuzzgen::valid_call(rng, protocol));
  const bool sent = socket->send(end.writes.front());
  auto verdict = judge(*socket, end, sent, context);
  if (!verdict.finding && !verdict.closed) {
    end.kind = "close";
    end.expect = {};
    end.expect.any_close_code = true;
    verdict = judge(*socket, end, socket->send_frame(fuzzgen::kClose, fuzzgen::close_payload(1000)), context);
  }
  if (verdict.finding) fail(plan.size(), verdict.finding->kind, verdict.finding->detail + " (after the last case)");
}

void Campaign::probe_liveness() {
  const auto n = probes_++;
  const std::string protocol = options_.protocols.front();
  try {
    WireSocket socket(options_.endpoint, "fuzz-live", protocol, options_.answer_timeout);
    upgraded_once_ = true;
    fuzzgen::Rng rng(n);
    const auto heartbeat = fuzzgen::valid_case(rng, "live-" + std::to_string(n), {"Heartbeat", "{}"});
    const std::function<void(const std::string&)> no_trace;
    Counters probe_counters;  // the campaign's count what the fuzzing connections got
    const JudgeContext context{protocol_version(protocol), options_.strict, options_.answer_timeout, probe_counters,
                               no_trace};
    auto verdict = judge(socket, heartbeat, socket.send(heartbeat.writes.front()), context);
    if (verdict.finding) {
      verdict.finding->kind = "liveness";
      report(std::move(*verdict.finding));
      return;
    }
    socket.send_frame(fuzzgen::kClose, fuzzgen::close_payload(1000));
    ++counters_.liveness_checks;
  } catch (const ConnectError& e) {
    if (e.refused) report_refused(e);
    else report({"liveness", {}, {}, {}, std::string("a fresh connection failed: ") + e.what()});
  }
}

void Campaign::run(std::size_t workers, const std::atomic<bool>& stop,
                   const std::function<void(const Finding&)>& on_finding) {
  on_finding_ = on_finding;
  workers_ = workers;
  std::vector<std::thread> threads;
  for (std::size_t w = 0; w < workers; ++w)
    threads.emplace_back([this, &stop] {
      while (!stop && !server_gone_) run_connection(next_connection_++);
    });
  std::mutex m;
  std::condition_variable cv;
  std::thread probe([&] {
    std::unique_lock lock(m);
    while (!stop && !server_gone_) {
      lock.unlock();
      probe_liveness();
      lock.lock();
      cv.wait_for(lock, options_.liveness_interval, [&] { return stop || server_gone_; });
    }
  });
  for (auto& t : threads) t.join();
  cv.notify_all();
  probe.join();
}

}  // namespace ocpp::app::wire_fuzz

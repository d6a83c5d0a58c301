#pragma once
// The peer process of the interop tests (tests/interop/peers/peer.mjs, see its README for the
// command/event protocol) and the helpers to read its JSON events.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <future>
#include <mutex>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <sys/wait.h>
#include <unistd.h>

#include "subprocess.hpp"

#ifndef OCPP_PEERS_DIR
#error "OCPP_PEERS_DIR must name tests/interop/peers"
#endif

namespace interop {

using Predicate = Subprocess::Predicate;
inline constexpr std::chrono::milliseconds kEventTimeout{5000};  // one exchange on loopback, TLS included

// A failed expectation that makes continuing pointless: Google Test reports the exception as a
// failure of the test, and TearDown prints the peer's transcript.
struct Abort : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Empty when node and the pinned npm packages are there, else what to do about it.
inline std::string peers_problem() {
  const std::filesystem::path dir = OCPP_PEERS_DIR;
  if (!std::filesystem::exists(dir / "peer.mjs")) return "peer.mjs not found in " + dir.string();
  for (const char* pkg : {"ocpp-ws-io", "ocpp-rpc"})
    if (!std::filesystem::exists(dir / "node_modules" / pkg / "package.json"))
      return std::string("npm package ") + pkg + " is not installed in " + (dir / "node_modules").string() +
             ": run `bash " + (dir / "install.sh").string() + "` (needs node >= 18 and npm)";
  return {};
}

inline std::string str(const boost::json::object& o, std::string_view key) {
  const boost::json::value* v = o.if_contains(key);
  if (!v) return "<missing>";
  if (const boost::json::string* s = v->if_string()) return std::string(*s);
  return boost::json::serialize(*v);
}

inline const boost::json::value& at(const boost::json::object& o, std::string_view key) {
  static const boost::json::value missing = "<missing>";
  const boost::json::value* v = o.if_contains(key);
  return v ? *v : missing;
}

inline boost::json::object obj(const boost::json::value& v) {
  return v.is_object() ? v.get_object() : boost::json::object{};
}

inline Predicate event_is(std::string name) {
  return [name](const boost::json::object& o) { return str(o, "event") == name; };
}

inline Predicate event_in(std::vector<std::string> names) {
  return [names](const boost::json::object& o) {
    const std::string e = str(o, "event");
    for (const auto& n : names)
      if (e == n) return true;
    return false;
  };
}

// The answer to a peer `call` command: exactly one of result / call_error / call_failed.
inline Predicate answer_to(std::string id) {
  return [id](const boost::json::object& o) {
    const std::string e = str(o, "event");
    return (e == "result" || e == "call_error" || e == "call_failed") && str(o, "id") == id;
  };
}

// The io_context our sessions run on, on a thread of its own; an exception escaping run() is
// collected and reported as a failure, and run() goes on.
class IoThread {
 public:
  boost::asio::io_context& context() noexcept { return io_; }
  bool running() const noexcept { return thread_.joinable(); }

  void start() {
    thread_ = std::thread([this] {
      for (;;) {
        try {
          io_.run();
          break;
        } catch (const std::exception& e) {
          std::lock_guard lock(errors_m_);
          errors_.push_back(e.what());
        } catch (...) {
          std::lock_guard lock(errors_m_);
          errors_.push_back("non-std exception");
        }
      }
      done_.set_value();
    });
  }

  // Lets the io_context run out of work; a library that leaves work behind is reported.
  void drain() {
    if (!running()) return;
    guard_.reset();
    auto f = done_.get_future();
    if (f.wait_for(std::chrono::seconds(5)) != std::future_status::ready) {
      ADD_FAILURE() << "the io_context still had work 5 s after everything was closed";
      io_.stop();
    }
    thread_.join();
    std::lock_guard lock(errors_m_);
    for (const auto& e : errors_) ADD_FAILURE() << "exception escaped io_context::run(): " << e;
  }

 private:
  boost::asio::io_context io_;
  std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> guard_{io_.get_executor()};
  std::thread thread_;
  std::promise<void> done_;
  std::mutex errors_m_;
  std::vector<std::string> errors_;
};

class Peer {
 public:
  explicit Peer(std::vector<std::string> args) {
    static std::atomic<int> counter{0};
    stderr_path_ = (std::filesystem::path(testing::TempDir()) /
                    ("interop-peer-" + std::to_string(::getpid()) + "-" + std::to_string(counter++) + ".log"))
                       .string();
    std::vector<std::string> argv{"node", std::string(OCPP_PEERS_DIR) + "/peer.mjs"};
    argv.insert(argv.end(), args.begin(), args.end());
    argv.insert(argv.end(), {"--log-level", "warn"});  // library logs go to the stderr file
    for (const auto& a : argv) command_ += (command_.empty() ? "" : " ") + a;
    try {
      proc_.emplace(argv, stderr_path_);
    } catch (const std::exception& e) {
      throw Abort("cannot start `" + command_ + "` (is node on PATH?): " + e.what());
    }
  }
  ~Peer() {
    proc_.reset();
    std::error_code ignored;
    std::filesystem::remove(stderr_path_, ignored);
  }
  Peer(const Peer&) = delete;
  Peer& operator=(const Peer&) = delete;

  boost::json::object wait(const Predicate& pred, const std::string& what,
                           std::chrono::milliseconds timeout = kEventTimeout) {
    auto ev = proc_->read_event(pred, timeout);
    if (!ev)
      throw Abort("peer: no " + what + " within " + std::to_string(timeout.count()) + " ms" +
                  (proc_->stdout_eof() ? " (the peer exited)" : ""));
    return std::move(*ev);
  }

  void send(const boost::json::object& cmd) {
    if (!proc_->send(cmd)) throw Abort("peer: cannot write command (the peer exited): " + boost::json::serialize(cmd));
  }

  // Sends a `call` (to `identity`'s connection on a server peer) and waits for its answer.
  boost::json::object call(const std::string& action, boost::json::value payload, const std::string& identity = {}) {
    const std::string id = "c" + std::to_string(++calls_);
    boost::json::object cmd{{"cmd", "call"}, {"id", id}, {"action", action}, {"payload", std::move(payload)}};
    if (!identity.empty()) cmd["identity"] = identity;
    send(cmd);
    return wait(answer_to(id), "answer to call " + id + " (" + action + ")");
  }

  // `handle` with one of reply / error / noreply in `behaviour`; waits for the peer's `ok`.
  void handle(const std::string& action, boost::json::object behaviour) {
    boost::json::object cmd{{"cmd", "handle"}, {"action", action}};
    for (auto& kv : behaviour) cmd[kv.key()] = kv.value();
    send(cmd);
    auto ev = wait(
        [&](const boost::json::object& o) {
          return (str(o, "event") == "ok" && str(o, "cmd") == "handle" && str(o, "action") == action) ||
                 str(o, "event") == "cmd_error";
        },
        "ok for handle " + action);
    if (str(ev, "event") != "ok") throw Abort("peer rejected handle " + action + ": " + boost::json::serialize(ev));
  }

  void send_raw(const std::string& identity, const std::string& data) {
    send({{"cmd", "send_raw"}, {"identity", identity}, {"data", data}});
    auto ev = wait(
        [](const boost::json::object& o) {
          return (str(o, "event") == "ok" && str(o, "cmd") == "send_raw") || str(o, "event") == "cmd_error";
        },
        "ok for send_raw");
    if (str(ev, "event") != "ok") throw Abort("peer rejected send_raw: " + boost::json::serialize(ev));
  }

  // The connections of a server peer: every open completed before this reads is listed.
  boost::json::array connected() {
    send({{"cmd", "list"}});
    return at(wait(event_is("clients"), "clients"), "clients").as_array();
  }

  // An event already read from the peer but not yet waited for.
  bool has_unread(const std::string& event) const {
    for (const auto& o : proc_->backlog())
      if (str(o, "event") == event) return true;
    return false;
  }

  std::vector<boost::json::object> backlog_copy() const { return {proc_->backlog().begin(), proc_->backlog().end()}; }

  // Closes stdin (the peer closes its connections and exits 0), SIGTERM after a grace period.
  int stop() { return proc_->stop(); }
  bool exited_cleanly() const {
    auto s = proc_->exit_status();
    return s && WIFEXITED(*s) && WEXITSTATUS(*s) == 0;
  }

  std::string dump() const {
    std::ostringstream out;
    out << "---- peer: " << command_ << "\n";
    if (auto s = proc_->exit_status())
      out << "---- exit: " << (WIFEXITED(*s) ? "code " + std::to_string(WEXITSTATUS(*s))
                                             : "signal " + std::to_string(WTERMSIG(*s)))
          << "\n";
    out << "---- stdout events (" << proc_->transcript().size() << "):\n";
    for (const auto& line : proc_->transcript()) out << "  " << line << "\n";
    std::ifstream err(stderr_path_);
    std::vector<std::string> lines;
    for (std::string line; std::getline(err, line);) lines.push_back(line);
    const std::size_t from = lines.size() > 80 ? lines.size() - 80 : 0;
    out << "---- stderr (" << lines.size() << " lines" << (from ? ", last 80" : "") << "):\n";
    for (std::size_t i = from; i < lines.size(); ++i) out << "  " << lines[i] << "\n";
    return out.str();
  }

 private:
  std::string command_;
  std::string stderr_path_;
  std::optional<Subprocess> proc_;
  int calls_ = 0;
};

}  // namespace interop

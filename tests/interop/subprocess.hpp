#pragma once
// A child process speaking JSON lines: commands go to its stdin, events come from its stdout.
// POSIX only (posix_spawn, pipes, poll). Used to drive tests/interop/peers/peer.mjs.
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <sys/types.h>

#include <chrono>
#include <deque>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace interop {

class Subprocess {
 public:
  using Predicate = std::function<bool(const boost::json::object&)>;

  // Starts argv[0] (looked up on PATH) with stdin and stdout on pipes. stderr goes to
  // `stderr_path` (truncated) when given, else it is inherited. Throws std::system_error when the
  // process cannot be started.
  Subprocess(std::vector<std::string> argv, std::string stderr_path = {});
  ~Subprocess();  // close stdin, wait a grace period, then SIGTERM, then SIGKILL
  Subprocess(const Subprocess&) = delete;
  Subprocess& operator=(const Subprocess&) = delete;

  pid_t pid() const noexcept { return pid_; }

  // Writes one line (a '\n' is appended). False when the child's stdin is closed or gone.
  bool send_line(std::string_view line);
  bool send(const boost::json::object& command);

  // The first event (a JSON object per stdout line) matching `pred`, oldest first: events read
  // earlier and not yet taken are searched before new lines are read. Waits at most `timeout`;
  // nullopt on timeout or when stdout reached EOF without a match. A matching event is removed
  // from the backlog; the others stay for later reads.
  std::optional<boost::json::object> read_event(const Predicate& pred, std::chrono::milliseconds timeout);

  // Events not taken by read_event yet, oldest first.
  const std::deque<boost::json::object>& backlog() const noexcept { return backlog_; }
  // Every stdout line read so far, verbatim, in order (taken or not).
  const std::vector<std::string>& transcript() const noexcept { return transcript_; }
  bool stdout_eof() const noexcept { return eof_; }

  void close_stdin();
  // Closes stdin, then waits for exit up to `grace`, then SIGTERM and `grace` again, then SIGKILL.
  // Returns the wait status (as from waitpid). Idempotent.
  int stop(std::chrono::milliseconds grace = std::chrono::milliseconds(3000));
  std::optional<int> exit_status() const noexcept { return status_; }

 private:
  // Reads until `deadline` or EOF; returns true if at least one complete line arrived.
  bool read_some(std::chrono::steady_clock::time_point deadline);
  void take_lines();
  bool wait_exit(std::chrono::steady_clock::time_point deadline);

  pid_t pid_ = -1;
  int in_fd_ = -1;   // child's stdin (write end)
  int out_fd_ = -1;  // child's stdout (read end)
  std::string partial_;
  std::deque<boost::json::object> backlog_;
  std::vector<std::string> transcript_;
  bool eof_ = false;
  std::optional<int> status_;
};

}  // namespace interop

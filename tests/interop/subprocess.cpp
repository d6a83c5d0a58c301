#include "subprocess.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <mutex>
#include <system_error>

extern char** environ;

namespace interop {
namespace json = boost::json;
using clock = std::chrono::steady_clock;

namespace {

[[noreturn]] void throw_errno(const char* what, int err = errno) {
  throw std::system_error(err, std::generic_category(), what);
}

void close_fd(int& fd) {
  if (fd >= 0) ::close(fd);
  fd = -1;
}

int remaining_ms(clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now()).count();
  return left <= 0 ? 0 : static_cast<int>(left > 1'000'000 ? 1'000'000 : left);
}

// RAII for the posix_spawn attribute objects.
struct SpawnSetup {
  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attr;
  SpawnSetup() {
    posix_spawn_file_actions_init(&actions);
    posix_spawnattr_init(&attr);
  }
  ~SpawnSetup() {
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
  }
};

}  // namespace

Subprocess::Subprocess(std::vector<std::string> argv, std::string stderr_path) {
  if (argv.empty()) throw std::invalid_argument("Subprocess: empty argv");
  // A child that died must not kill us with SIGPIPE when we write its stdin.
  static std::once_flag sigpipe_once;
  std::call_once(sigpipe_once, [] { ::signal(SIGPIPE, SIG_IGN); });

  int in_pipe[2], out_pipe[2];
  if (::pipe2(in_pipe, O_CLOEXEC) != 0) throw_errno("pipe2");
  if (::pipe2(out_pipe, O_CLOEXEC) != 0) {
    const int err = errno;
    ::close(in_pipe[0]);
    ::close(in_pipe[1]);
    throw_errno("pipe2", err);
  }

  SpawnSetup s;
  posix_spawn_file_actions_adddup2(&s.actions, in_pipe[0], STDIN_FILENO);
  posix_spawn_file_actions_adddup2(&s.actions, out_pipe[1], STDOUT_FILENO);
  if (!stderr_path.empty())
    posix_spawn_file_actions_addopen(&s.actions, STDERR_FILENO, stderr_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                     0644);
  // Nothing else of ours reaches the child: Asio opens sockets without SOCK_CLOEXEC, and a child
  // holding a copy of a listening or connected socket keeps it alive after we close ours.
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 34))
  posix_spawn_file_actions_addclosefrom_np(&s.actions, STDERR_FILENO + 1);
#else
#error "needs posix_spawn_file_actions_addclosefrom_np (glibc >= 2.34)"
#endif
  // Undo our SIGPIPE disposition in the child (ignored dispositions survive exec).
  sigset_t defaults;
  sigemptyset(&defaults);
  sigaddset(&defaults, SIGPIPE);
  posix_spawnattr_setsigdefault(&s.attr, &defaults);
  sigset_t no_mask;
  sigemptyset(&no_mask);
  posix_spawnattr_setsigmask(&s.attr, &no_mask);
  posix_spawnattr_setflags(&s.attr, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);

  std::vector<char*> args;
  for (auto& a : argv) args.push_back(a.data());
  args.push_back(nullptr);
  const int rc = ::posix_spawnp(&pid_, args[0], &s.actions, &s.attr, args.data(), environ);
  ::close(in_pipe[0]);
  ::close(out_pipe[1]);
  if (rc != 0) {
    ::close(in_pipe[1]);
    ::close(out_pipe[0]);
    pid_ = -1;
    throw_errno(("posix_spawnp " + argv[0]).c_str(), rc);
  }
  in_fd_ = in_pipe[1];
  out_fd_ = out_pipe[0];
}

Subprocess::~Subprocess() {
  stop();
  close_fd(in_fd_);
  close_fd(out_fd_);
}

bool Subprocess::send_line(std::string_view line) {
  if (in_fd_ < 0) return false;
  std::string buf(line);
  buf.push_back('\n');
  std::size_t off = 0;
  while (off < buf.size()) {
    const ssize_t n = ::write(in_fd_, buf.data() + off, buf.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;  // EPIPE: the child is gone
    }
    off += static_cast<std::size_t>(n);
  }
  return true;
}

bool Subprocess::send(const json::object& command) { return send_line(json::serialize(command)); }

void Subprocess::take_lines() {
  std::size_t start = 0;
  for (std::size_t nl; (nl = partial_.find('\n', start)) != std::string::npos; start = nl + 1) {
    std::string line = partial_.substr(start, nl - start);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    transcript_.push_back(line);
    boost::system::error_code ec;
    json::value v = json::parse(line, ec);
    if (!ec && v.is_object()) backlog_.push_back(std::move(v.as_object()));
    // Anything else is kept in the transcript only.
  }
  partial_.erase(0, start);
}

bool Subprocess::read_some(clock::time_point deadline) {
  if (out_fd_ < 0 || eof_) return false;
  const std::size_t before = backlog_.size();
  const std::size_t lines_before = transcript_.size();
  for (;;) {
    pollfd p{out_fd_, POLLIN, 0};
    const int r = ::poll(&p, 1, remaining_ms(deadline));
    if (r < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    if (r == 0) return false;  // deadline
    char buf[8192];
    const ssize_t n = ::read(out_fd_, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      eof_ = true;
      return false;
    }
    if (n == 0) {
      eof_ = true;
      if (!partial_.empty()) {
        partial_.push_back('\n');
        take_lines();
      }
      return transcript_.size() > lines_before;
    }
    partial_.append(buf, static_cast<std::size_t>(n));
    take_lines();
    if (transcript_.size() > lines_before || backlog_.size() > before) return true;
  }
}

std::optional<json::object> Subprocess::read_event(const Predicate& pred, std::chrono::milliseconds timeout) {
  const auto deadline = clock::now() + timeout;
  std::size_t checked = 0;  // backlog entries already tested against pred
  for (;;) {
    for (; checked < backlog_.size(); ++checked) {
      if (pred(backlog_[checked])) {
        json::object ev = std::move(backlog_[checked]);
        backlog_.erase(backlog_.begin() + static_cast<std::ptrdiff_t>(checked));
        return ev;
      }
    }
    if (eof_ || clock::now() >= deadline) return std::nullopt;
    read_some(deadline);
  }
}

void Subprocess::close_stdin() { close_fd(in_fd_); }

bool Subprocess::wait_exit(clock::time_point deadline) {
  if (status_) return true;
  // Until the child exits its stdout stays open (peer.mjs starts no children of its own):
  // collecting output up to EOF is both the wait and a last chance to record events.
  while (!eof_ && clock::now() < deadline) read_some(deadline);
  int status = 0;
  // After EOF the exit follows immediately; without EOF (deadline), poll a pidfd for the rest.
#ifdef SYS_pidfd_open
  const int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid_, 0));
  if (pidfd >= 0) {
    pollfd p{pidfd, POLLIN, 0};
    while (::poll(&p, 1, remaining_ms(deadline)) < 0 && errno == EINTR) {
    }
    ::close(pidfd);
  }
#endif
  pid_t r;
  while ((r = ::waitpid(pid_, &status, WNOHANG)) < 0 && errno == EINTR) {
  }
  if (r == pid_) {
    status_ = status;
    return true;
  }
  if (r < 0) {  // not our child any more (should not happen): treat as gone
    status_ = -1;
    return true;
  }
  return false;
}

int Subprocess::stop(std::chrono::milliseconds grace) {
  if (pid_ <= 0) return -1;
  if (status_) return *status_;
  close_stdin();
  if (wait_exit(clock::now() + grace)) return *status_;
  ::kill(pid_, SIGTERM);
  if (wait_exit(clock::now() + grace)) return *status_;
  ::kill(pid_, SIGKILL);
  int status = 0;
  while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
  status_ = status;
  return status;
}

}  // namespace interop

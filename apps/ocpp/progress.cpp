#include "progress.hpp"

#include <unistd.h>

#include <cstdio>

namespace ocpp::app {

Progress::Progress(std::string name, std::function<std::string()> summary)
    : name_(std::move(name)), summary_(std::move(summary)), tty_(::isatty(STDERR_FILENO) == 1) {
  thread_ = std::thread([this] { loop(); });
}

Progress::~Progress() { stop(); }

void Progress::stop() {
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return;
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
  if (tty_) std::fputs("\r\033[K", stderr);
}

void Progress::loop() {
  using namespace std::chrono_literals;
  const auto interval = tty_ ? 200ms : 2000ms;
  std::unique_lock lock(mutex_);
  while (!wake_.wait_for(lock, interval, [this] { return stopping_; })) {
    const std::string line = name_ + ": " + summary_();
    if (tty_) std::fprintf(stderr, "\r\033[K%s", line.c_str());
    else std::fprintf(stderr, "%s\n", line.c_str());
    std::fflush(stderr);
  }
}

}  // namespace ocpp::app

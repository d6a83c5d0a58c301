#pragma once
// Progress of a long run on stderr, so that stdout keeps only the result (--json): on a terminal
// one summary line redrawn in place, at most five times a second; otherwise a plain line every
// two seconds, which logs and CI keep readable.
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

namespace ocpp::app {

class Progress {
 public:
  // `summary` is called from the progress thread: it must only read atomics or lock.
  Progress(std::string name, std::function<std::string()> summary);
  ~Progress();
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  // Stops redrawing; on a terminal the live line is cleared, so the result prints on a clean line.
  void stop();

 private:
  void loop();

  std::string name_;
  std::function<std::string()> summary_;
  bool tty_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace ocpp::app

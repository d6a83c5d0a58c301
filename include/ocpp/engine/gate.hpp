#pragma once
/// @file
/// Lets the owner of sessions (the server) stop their user callbacks from any thread and learn
/// when none is running any more: a Server being destroyed must not leave a callback that can
/// still fire into objects its owner has freed. IO-free: atomics only; the waiting is the owner's.
#include <atomic>

#include "ocpp/rpc/visibility.hpp"

OCPP_API_BEGIN
namespace ocpp {

/// Lets user callbacks run until closed, and tells when none is running any more (the server's destructor waits on it). Thread-safe.
class CallbackGate {
 public:
  /// Brackets one user callback: false once closed, and then the callback must not run.
  bool enter() noexcept;
  /// Ends what enter() began.
  void leave() noexcept;
  /// No callback starts after this returns.
  void close() noexcept { closed_.store(true, std::memory_order_seq_cst); }
  /// No callback is running, other than those the calling thread is inside of (a destructor called
  /// from a callback cannot wait for its own caller).
  bool idle() const noexcept;

  /// A callback's stay in the gate: enter() on construction, leave() on destruction; a null gate lets
  /// every callback through.
  class Scope {
   public:
    /// Enters `gate` (null: always open).
    explicit Scope(CallbackGate* gate) noexcept : gate_(gate && gate->enter() ? gate : nullptr), open_(!gate || gate_) {}
    ~Scope() {
      if (gate_) gate_->leave();
    }
    Scope(const Scope&) = delete;
    Scope& operator=(const Scope&) = delete;
    /// Whether the callback may run.
    explicit operator bool() const noexcept { return open_; }

   private:
    CallbackGate* gate_;
    bool open_;
  };

 private:
  std::atomic<bool> closed_{false};
  std::atomic<unsigned> active_{0};
};

}  // namespace ocpp
OCPP_API_END

#include "ocpp/engine/gate.hpp"

namespace ocpp {
namespace {
// The gates this thread is inside of, with their depth: few at once (one server's, nested).
struct Entered {
  static constexpr unsigned capacity = 8;
  const CallbackGate* gate[capacity] = {};
  unsigned depth[capacity] = {};
  unsigned overflow = 0;  // entries beyond capacity are not attributed (idle() then waits for them)

  unsigned* find(const CallbackGate* g) noexcept {
    for (unsigned i = 0; i < capacity; ++i)
      if (gate[i] == g && depth[i]) return &depth[i];
    return nullptr;
  }
};
thread_local Entered entered;
}  // namespace

// Dekker's pattern with seq_cst on both sides: a callback that saw the gate open is counted
// before close() returns to a caller that then reads the count.
bool CallbackGate::enter() noexcept {
  active_.fetch_add(1, std::memory_order_seq_cst);
  if (closed_.load(std::memory_order_seq_cst)) {
    active_.fetch_sub(1, std::memory_order_seq_cst);
    return false;
  }
  if (auto* d = entered.find(this)) {
    ++*d;
    return true;
  }
  for (unsigned i = 0; i < Entered::capacity; ++i)
    if (!entered.depth[i]) {
      entered.gate[i] = this;
      entered.depth[i] = 1;
      return true;
    }
  ++entered.overflow;
  return true;
}

void CallbackGate::leave() noexcept {
  if (auto* d = entered.find(this))
    --*d;
  else if (entered.overflow)
    --entered.overflow;
  active_.fetch_sub(1, std::memory_order_seq_cst);
}

bool CallbackGate::idle() const noexcept {
  auto* own = entered.find(this);
  return active_.load(std::memory_order_seq_cst) <= (own ? *own : 0u);
}

}  // namespace ocpp

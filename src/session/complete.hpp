#pragma once
// Internal: completing type-erased handlers. Completions run on the session's executor. (Asio
// 1.26's append/post cannot carry an any_completion_handler: append invokes it as an lvalue, which
// its converting constructor turns into endless re-wrapping.)
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/post.hpp>

#include "ocpp/engine/gate.hpp"

#include <memory>
#include <tuple>
#include <utility>

namespace ocpp::detail {

// Asio 1.26's any_completion_handler has an unconstrained converting constructor, so a lambda that
// captures one looks copyable; when Asio copies it, the handler re-wraps itself without end.
// Capturing through this wrapper keeps such lambdas move-only.
template <class H>
struct MoveOnly {
  explicit MoveOnly(H handler) : h(std::move(handler)) {}
  MoveOnly(MoveOnly&&) noexcept = default;
  MoveOnly& operator=(MoveOnly&&) noexcept = default;
  MoveOnly(const MoveOnly&) = delete;
  MoveOnly& operator=(const MoveOnly&) = delete;
  H h;
};

// From a completion path that is not the initiating function, already on the executor.
template <class Handler, class... Args>
void complete_now(Handler handler, Args&&... args) {
  std::move(handler)(std::forward<Args>(args)...);
}

// From inside an initiating function: never runs the handler before it returns.
template <class Handler, class... Args>
void complete_later(const boost::asio::any_io_executor& ex, Handler handler, Args&&... args) {
  boost::asio::post(ex, [h = MoveOnly<Handler>(std::move(handler)),
                         t = std::make_tuple(std::forward<Args>(args)...)]() mutable {
    std::apply([&](auto&&... a) { std::move(h.h)(std::move(a)...); }, std::move(t));
  });
}

// The same for a completion of the user's: it does not run once `gate` (the session's
// SessionHooks::gate, may be null) is closed, and is destroyed instead.
template <class Handler, class... Args>
void complete_later(const std::shared_ptr<CallbackGate>& gate, const boost::asio::any_io_executor& ex,
                    Handler handler, Args&&... args) {
  if (!gate) return complete_later(ex, std::move(handler), std::forward<Args>(args)...);
  boost::asio::post(ex, [gate, h = MoveOnly<Handler>(std::move(handler)),
                         t = std::make_tuple(std::forward<Args>(args)...)]() mutable {
    CallbackGate::Scope scope(gate.get());
    if (scope) std::apply([&](auto&&... a) { std::move(h.h)(std::move(a)...); }, std::move(t));
  });
}

}  // namespace ocpp::detail

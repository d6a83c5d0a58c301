#pragma once
/// @file
/// Inbound CALL handlers: what they receive, how they answer, and where they are registered.
#include <boost/asio/cancellation_signal.hpp>
#include <boost/json/value.hpp>

#include <exception>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include "ocpp/rpc/visibility.hpp"

OCPP_API_BEGIN
namespace ocpp {

class RpcSession;

/// Returned by a handler that must not answer (the caller will time out), like ocpp-rpc's NOREPLY.
struct NoReply {};
/// The NoReply value handlers return.
inline constexpr NoReply no_reply{};

/// What a synchronous handler returns: a payload for the CALLRESULT, or no_reply.
class HandlerResult {
 public:
  /// A CALLRESULT with payload `v`.
  HandlerResult(boost::json::value v) : value_(std::move(v)) {}
  /// A CALLRESULT with payload `o`.
  HandlerResult(boost::json::object o) : value_(std::move(o)) {}
  /// No answer.
  HandlerResult(NoReply) : no_reply_(true) {}
  /// Whether the handler chose not to answer.
  bool is_no_reply() const noexcept { return no_reply_; }
  /// The payload, to move out.
  boost::json::value& value() noexcept { return value_; }

 private:
  boost::json::value value_;
  bool no_reply_ = false;
};

/// What a handler gets for one inbound CALL or SEND.
struct CallContext {
  std::string action;  ///< the action name
  std::string message_id;  ///< the CALL's message id
  boost::json::value params;  ///< the payload, to move out
  std::string_view protocol;  ///< valid while `session` is held
  std::string_view identity;  ///< the station identity; valid while `session` is held
  bool is_send = false;  ///< an ocpp2.1 SEND: any answer is discarded
  std::shared_ptr<RpcSession> session;  ///< the connection the CALL came on
};

namespace detail {
struct InboundCall;
}

/// Answers one inbound CALL from an asynchronous handler, from any thread, once. Destroying it
/// without answering sends InternalError, so no CALL is ever left unanswered by accident.
class Responder {
 public:
  /// Made by the session for one inbound CALL.
  explicit Responder(std::shared_ptr<detail::InboundCall> call) : call_(std::move(call)) {}
  /// Movable: the answer can go to another thread.
  Responder(Responder&&) noexcept = default;
  /// Movable: the answer can go to another thread.
  Responder& operator=(Responder&&) noexcept = default;
  Responder(const Responder&) = delete;
  ~Responder();

  /// Answers with a CALLRESULT of `payload`.
  void result(boost::json::value payload);
  void fail(std::exception_ptr error);  ///< RpcError → its CALLERROR, anything else → InternalError
  /// Answers nothing (the caller will time out).
  void no_reply();
  /// Emits when the connection drops or closes without waiting for handlers.
  boost::asio::cancellation_slot cancellation_slot() const;

 private:
  std::shared_ptr<detail::InboundCall> call_;
};

/// A handler that answers before it returns.
using SyncHandler = std::function<HandlerResult(CallContext&)>;
/// A handler that answers later, through its Responder.
using AsyncHandler = std::function<void(CallContext&, Responder)>;

/// A registered handler, in one of its two forms (one set).
struct Handler {
  SyncHandler sync;  ///< set for a synchronous handler
  AsyncHandler async;  ///< set for an asynchronous one (coroutines included)
};

/// Handlers by (protocol, action). Lookup order: protocol-specific, then any protocol, then the
/// wildcard. Adding a second handler for the same key throws std::logic_error.
class HandlerTable {
 public:
  /// Adds the handler of `action` in `protocol` (empty: any protocol).
  void add(std::string_view protocol, std::string_view action, Handler handler);
  /// Adds the handler of every action without one.
  void add_wildcard(Handler handler);
  /// Removes a handler; false if there was none.
  bool remove(std::string_view protocol, std::string_view action);
  /// Removes every handler.
  void clear();
  /// The handler for `action` in `protocol`, by the lookup order; null if none.
  const Handler* find(std::string_view protocol, std::string_view action) const;
  /// Whether no handler is registered.
  bool empty() const noexcept { return map_.empty() && !wildcard_; }

 private:
  struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
  };
  std::unordered_map<std::string, Handler, Hash, std::equal_to<>> map_;
  std::unique_ptr<Handler> wildcard_;
};

}  // namespace ocpp
OCPP_API_END

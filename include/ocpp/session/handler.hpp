#pragma once
// Inbound CALL handlers: what they receive, how they answer, and where they are registered.
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

// Returned by a handler that must not answer (the caller will time out), like ocpp-rpc's NOREPLY.
struct NoReply {};
inline constexpr NoReply no_reply{};

class HandlerResult {
 public:
  HandlerResult(boost::json::value v) : value_(std::move(v)) {}
  HandlerResult(boost::json::object o) : value_(std::move(o)) {}
  HandlerResult(NoReply) : no_reply_(true) {}
  bool is_no_reply() const noexcept { return no_reply_; }
  boost::json::value& value() noexcept { return value_; }

 private:
  boost::json::value value_;
  bool no_reply_ = false;
};

struct CallContext {
  std::string action;
  std::string message_id;
  boost::json::value params;
  std::string_view protocol;  // valid while `session` is held
  std::string_view identity;
  bool is_send = false;  // an ocpp2.1 SEND: any answer is discarded
  std::shared_ptr<RpcSession> session;
};

namespace detail {
struct InboundCall;
}

// Answers one inbound CALL from an asynchronous handler, from any thread, once. Destroying it
// without answering sends InternalError, so no CALL is ever left unanswered by accident.
class Responder {
 public:
  explicit Responder(std::shared_ptr<detail::InboundCall> call) : call_(std::move(call)) {}
  Responder(Responder&&) noexcept = default;
  Responder& operator=(Responder&&) noexcept = default;
  Responder(const Responder&) = delete;
  ~Responder();

  void result(boost::json::value payload);
  void fail(std::exception_ptr error);  // RpcError → its CALLERROR, anything else → InternalError
  void no_reply();
  // Emits when the connection drops or closes without waiting for handlers.
  boost::asio::cancellation_slot cancellation_slot() const;

 private:
  std::shared_ptr<detail::InboundCall> call_;
};

using SyncHandler = std::function<HandlerResult(CallContext&)>;
using AsyncHandler = std::function<void(CallContext&, Responder)>;

struct Handler {
  SyncHandler sync;
  AsyncHandler async;
};

// Handlers by (protocol, action). Lookup order: protocol-specific, then any protocol, then the
// wildcard. Adding a second handler for the same key throws std::logic_error.
class HandlerTable {
 public:
  void add(std::string_view protocol, std::string_view action, Handler handler);
  void add_wildcard(Handler handler);
  bool remove(std::string_view protocol, std::string_view action);
  void clear();
  const Handler* find(std::string_view protocol, std::string_view action) const;
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

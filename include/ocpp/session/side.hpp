#pragma once
/// @file
/// A session that knows at compile time which end it is: typed calls of an action this side may not
/// send, and typed handlers for an action the peer may not send, do not compile.
#include "ocpp/rpc/visibility.hpp"
#include "ocpp/session/session.hpp"

OCPP_API_BEGIN
namespace ocpp {

/// An RpcSession of side `R`: the typed API checks each action's direction at compile time.
template <Role R>
class SessionSide : public RpcSession {
  static constexpr Role peer = R == Role::csms ? Role::charging_station : Role::csms;

 public:
  /// @cond
  using RpcSession::call;
  using RpcSession::handle;
  using RpcSession::safe_call;
  using RpcSession::send;
  /// @endcond

  /// Typed CALL (RpcSession::call); does not compile when this side may not send the action.
  template <OcppCallRequest Request, class Token>
  auto call(const Request& request, CallOptions options, Token&& token) {
    static_assert(may_send(R, action_traits<Request>::direction), "this side does not send this action");
    return RpcSession::call(request, std::move(options), std::forward<Token>(token));
  }
  /// Typed CALL with default CallOptions.
  template <OcppCallRequest Request, class Token>
  auto call(const Request& request, Token&& token) {
    return call(request, CallOptions{}, std::forward<Token>(token));
  }
  /// Typed safe_call (RpcSession::safe_call); does not compile when this side may not send the action.
  template <OcppCallRequest Request, class Token>
  auto safe_call(const Request& request, CallOptions options, Token&& token) {
    static_assert(may_send(R, action_traits<Request>::direction), "this side does not send this action");
    return RpcSession::safe_call(request, std::move(options), std::forward<Token>(token));
  }
  /// Typed safe_call with default CallOptions.
  template <OcppCallRequest Request, class Token>
  auto safe_call(const Request& request, Token&& token) {
    return safe_call(request, CallOptions{}, std::forward<Token>(token));
  }
  /// Typed SEND (RpcSession::send); does not compile when this side may not send the message.
  template <OcppSendMessage Message, class Token>
  auto send(const Message& message, Token&& token) {
    static_assert(may_send(R, action_traits<Message>::direction), "this side does not send this action");
    return RpcSession::send(message, std::forward<Token>(token));
  }
  /// Typed handler (RpcSession::handle); does not compile when the peer may not send the action.
  template <TypedHandler F>
  void handle(F&& f) {
    static_assert(may_send(peer, action_traits<typename detail::handler_signature<F>::request>::direction),
                  "the peer does not send this action");
    RpcSession::handle(std::forward<F>(f));
  }

 protected:
  /// Forwards to RpcSession's constructors and sets the role.
  template <class... Args>
  explicit SessionSide(Args&&... args) : RpcSession(std::forward<Args>(args)...) {
    set_role(R);
  }
};

}  // namespace ocpp
OCPP_API_END

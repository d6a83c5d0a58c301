#pragma once
/// @file
/// Internal machinery of the typed API (RpcSession::call(request), handle(fn)): the generated
/// request type names the action, protocol, response type and direction, so nothing is spelled twice.
#include <boost/asio/associator.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/json/value_from.hpp>
#include <boost/json/value_to.hpp>

#include <exception>
#include <memory>
#include <optional>
#include <string_view>
#include <type_traits>

#include "ocpp/messages/common.hpp"
#include "ocpp/rpc/visibility.hpp"
#include "ocpp/session/handler.hpp"

OCPP_API_BEGIN
namespace ocpp {

class RpcSession;

namespace detail {

/// Throws the RpcError for a payload that does not convert to its generated type, with the code
/// the schema's failing keyword maps to (FormatViolation when the schema finds nothing).
[[noreturn]] void throw_conversion_failure(std::string_view action, schema::ValidateFn validate,
                                           const boost::json::value& payload, const std::exception& why);
void log_safe_call_failure(RpcSession& session, std::string_view action, std::exception_ptr error);

template <class T>
T convert_payload(std::string_view action, schema::ValidateFn validate, const boost::json::value& payload) {
  try {
    return boost::json::value_to<T>(payload);
  } catch (const std::exception& e) {
    throw_conversion_failure(action, validate, payload, e);
  }
}

/// Completes a JSON call as a typed one: converts the CALLRESULT to `Response`. `Safe` completes
/// with an optional (empty on any failure, which is logged) like safe_call.
template <class Response, class Handler, bool Safe>
struct TypedCompletion {
  Handler handler;
  std::string_view action;
  schema::ValidateFn validate;
  std::shared_ptr<RpcSession> session;  ///< Safe: where failures are logged

  void operator()(std::exception_ptr error, boost::json::value payload) {
    std::optional<Response> response;
    if (!error) {
      try {
        response.emplace(convert_payload<Response>(action, validate, payload));
      } catch (...) {
        error = std::current_exception();
      }
    }
    if constexpr (Safe) {
      if (error) log_safe_call_failure(*session, action, error);
      std::move(handler)(std::move(response));
    } else {
      std::move(handler)(error, response ? std::move(*response) : Response{});
    }
  }
};

/// The first parameter and the result of a typed handler: a function, a lambda, or a generic lambda
/// whose context parameter is `auto&`/`auto`.
template <class M>
struct signature_of {};
template <class R, class C, class A, class... Rest>
struct signature_of<R (C::*)(A, Rest...) const> {
  using request = std::remove_cvref_t<A>;
  using result = R;
};
template <class R, class C, class A, class... Rest>
struct signature_of<R (C::*)(A, Rest...)> : signature_of<R (C::*)(A, Rest...) const> {};
template <class R, class C, class A, class... Rest>
struct signature_of<R (C::*)(A, Rest...) const noexcept> : signature_of<R (C::*)(A, Rest...) const> {};
template <class R, class C, class A, class... Rest>
struct signature_of<R (C::*)(A, Rest...) noexcept> : signature_of<R (C::*)(A, Rest...) const> {};
template <class R, class A, class... Rest>
struct signature_of<R (*)(A, Rest...)> {
  using request = std::remove_cvref_t<A>;
  using result = R;
};

template <class F>
auto call_operator() {
  if constexpr (std::is_pointer_v<F>)
    return F{};
  else if constexpr (requires { &F::operator(); })
    return &F::operator();
  else if constexpr (requires { &F::template operator()<CallContext>; })
    return &F::template operator()<CallContext>;
}

template <class F>
using handler_signature = signature_of<decltype(call_operator<std::decay_t<F>>())>;

template <class T>
struct awaitable_value {
  using type = void;
  static constexpr bool is_awaitable = false;
};
template <class T, class E>
struct awaitable_value<boost::asio::awaitable<T, E>> {
  using type = T;
  static constexpr bool is_awaitable = true;
};

}  // namespace detail

/// A handler taking a generated request type first: `Response(const Request&, CallContext&)`,
/// `asio::awaitable<Response>(Request, CallContext)`, or `void(const Request&, CallContext&)` for
/// an ocpp2.1 SEND message.
template <class F>
concept TypedHandler = requires { typename detail::handler_signature<F>::request; } &&
                       OcppRequest<typename detail::handler_signature<F>::request>;

}  // namespace ocpp

namespace boost::asio {
/// The typed completion is transparent to Asio: executor, allocator and cancellation slot are the
/// user's handler's.
template <template <class, class> class Associator, class Response, class Handler, bool Safe, class Default>
struct associator<Associator, ocpp::detail::TypedCompletion<Response, Handler, Safe>, Default>
    : Associator<Handler, Default> {
  static typename Associator<Handler, Default>::type get(
      const ocpp::detail::TypedCompletion<Response, Handler, Safe>& h) noexcept {
    return Associator<Handler, Default>::get(h.handler);
  }
  static auto get(const ocpp::detail::TypedCompletion<Response, Handler, Safe>& h, const Default& d) noexcept
      -> decltype(Associator<Handler, Default>::get(h.handler, d)) {
    return Associator<Handler, Default>::get(h.handler, d);
  }
};
}  // namespace boost::asio
OCPP_API_END

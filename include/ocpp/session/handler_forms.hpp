#pragma once
/// @file
/// The forms a handler may take, wrapped into a Handler (included by session.hpp).

#include "ocpp/rpc/visibility.hpp"

OCPP_API_BEGIN
namespace ocpp {

template <class F>
Handler RpcSession::make_handler(F&& f) {
  using Fn = std::decay_t<F>;
  Handler h;
  if constexpr (std::is_invocable_v<Fn&, CallContext&, Responder>) {
    h.async = std::forward<F>(f);
  } else if constexpr (returns_awaitable<Fn>()) {
    h.async = [fn = std::forward<F>(f)](CallContext& ctx, Responder r) mutable {
      auto slot = r.cancellation_slot();
      auto ex = ctx.session->get_executor();
      boost::asio::co_spawn(
          ex, fn(std::move(ctx)),
          boost::asio::bind_cancellation_slot(slot, [r = std::move(r)](std::exception_ptr e, auto result) mutable {
            if (e)
              r.fail(e);
            else
              deliver(r, HandlerResult(std::move(result)));
          }));
    };
  } else {
    static_assert(std::is_convertible_v<std::invoke_result_t<Fn&, CallContext&>, HandlerResult>,
                  "a handler returns a payload (json value/object), ocpp::no_reply, or an awaitable of those");
    h.sync = std::forward<F>(f);
  }
  return h;
}

template <TypedHandler F>
Handler RpcSession::make_typed_handler(F&& f) {
  using Signature = detail::handler_signature<F>;
  using Request = typename Signature::request;
  using Result = typename Signature::result;
  using Traits = action_traits<Request>;
  using Fn = std::decay_t<F>;
  Handler h;
  if constexpr (detail::awaitable_value<Result>::is_awaitable) {
    static_assert(std::is_same_v<typename detail::awaitable_value<Result>::type, typename Traits::response_type>,
                  "a typed coroutine handler returns asio::awaitable<the request's response type>");
    h.async = [fn = Fn(std::forward<F>(f))](CallContext& ctx, Responder r) {
      std::optional<Request> request;
      try {
        request.emplace(detail::convert_payload<Request>(Traits::name, Traits::validate_request, ctx.params));
      } catch (...) {
        return r.fail(std::current_exception());
      }
      auto slot = r.cancellation_slot();
      auto ex = ctx.session->get_executor();
      boost::asio::co_spawn(
          ex, run_typed<Request>(fn, std::move(*request), std::move(ctx)),
          boost::asio::bind_cancellation_slot(slot, [r = std::move(r)](std::exception_ptr e, boost::json::value v) mutable {
            if (e)
              r.fail(e);
            else
              r.result(std::move(v));
          }));
    };
  } else {
    static_assert(std::is_same_v<Result, typename Traits::response_type> ||
                      (std::is_void_v<Result> && OcppSendMessage<Request>),
                  "a typed handler returns the request's response type (void for a SEND message)");
    h.sync = [fn = Fn(std::forward<F>(f))](CallContext& ctx) mutable -> HandlerResult {
      auto request = detail::convert_payload<Request>(Traits::name, Traits::validate_request, ctx.params);
      if constexpr (std::is_void_v<Result>) {
        fn(request, ctx);
        return no_reply;
      } else {
        return HandlerResult(boost::json::value_from(fn(request, ctx)));
      }
    };
  }
  return h;
}

template <class Request, class Fn>
boost::asio::awaitable<boost::json::value> RpcSession::run_typed(Fn fn, Request request, CallContext ctx) {
  auto response = co_await fn(std::move(request), ctx);
  co_return boost::json::value_from(response);
}

}  // namespace ocpp
OCPP_API_END

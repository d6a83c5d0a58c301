#pragma once
// Internal: completing type-erased handlers on their associated executor.
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/append.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>

#include <tuple>
#include <utility>

namespace ocpp::detail {

// From a completion path that is not the initiating function: may run the handler inline.
template <class Handler, class... Args>
void complete_now(Handler handler, Args&&... args) {
  boost::asio::dispatch(boost::asio::append(std::move(handler), std::forward<Args>(args)...));
}

// From inside an initiating function: never runs the handler before it returns.
template <class Handler, class... Args>
void complete_later(const boost::asio::any_io_executor& ex, Handler handler, Args&&... args) {
  boost::asio::post(ex, [h = std::move(handler), t = std::make_tuple(std::forward<Args>(args)...)]() mutable {
    std::apply([&](auto&&... a) { complete_now(std::move(h), std::move(a)...); }, std::move(t));
  });
}

}  // namespace ocpp::detail

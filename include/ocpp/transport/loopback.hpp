#pragma once
/// @file
/// An in-process transport pair for deterministic tests of the session layer: what one end sends
/// the other receives, posted on the executor, in order.
#include <boost/asio/any_io_executor.hpp>

#include <functional>
#include <memory>
#include <utility>

#include "ocpp/rpc/visibility.hpp"
#include "ocpp/transport/transport.hpp"

OCPP_API_BEGIN
namespace ocpp {

/// Two in-memory transports connected to each other.
struct LoopbackPair {
  std::shared_ptr<Transport> a;  ///< one end
  std::shared_ptr<Transport> b;  ///< the other end
};

/// `observe` (optional) sees every frame either end sends: (from_a, frame).
LoopbackPair make_loopback_pair(boost::asio::any_io_executor ex,
                                std::function<void(bool from_a, std::string_view frame)> observe = {});

}  // namespace ocpp
OCPP_API_END

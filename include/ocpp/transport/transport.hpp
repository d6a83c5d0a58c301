#pragma once
/// @file
/// The seam between the RPC session and the wire: one connected WebSocket (or a loopback pair).
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "ocpp/rpc/close_code.hpp"
#include "ocpp/rpc/visibility.hpp"

OCPP_API_BEGIN
namespace ocpp {

/// Receives what the transport reads. All calls arrive on the transport's executor.
class TransportSink {
 public:
  /// A text frame arrived.
  virtual void on_frame(std::string_view text) = 0;
  /// A pong arrived.
  virtual void on_pong() = 0;
  /// Exactly once; `code` is the peer's close code, or 1006 when the connection just dropped.
  virtual void on_closed(std::uint16_t code, std::string_view reason) = 0;

 protected:
  ~TransportSink() = default;
};

/// One connection's frames: the seam between the session and WebSocket (or the loopback pair). Runs on its executor.
class Transport {
 public:
  virtual ~Transport() = default;
  /// Starts reading. The sink is held weakly: its owner (the user's client, the server's registry)
  /// keeps it alive, and a sink that is gone just stops receiving.
  virtual void start(std::weak_ptr<TransportSink> sink) = 0;
  /// Queues a text frame; frames go out in order.
  virtual void send(std::string frame) = 0;
  /// Bytes of the frames send() queued that are not written to the socket yet (RpcSession bounds
  /// them with SessionOptions::max_send_queue_bytes).
  virtual std::size_t queued_bytes() const noexcept { return 0; }
  /// Also keep queued_bytes() in `total`, shared by many transports and read from any thread (the
  /// server's ocpp_send_queue_bytes). Call before start().
  virtual void count_queued_bytes_in(std::shared_ptr<std::atomic<std::int64_t>> /*total*/) {}
  /// Sends a WebSocket ping.
  virtual void ping() = 0;
  /// Closing handshake, after the frames queued before it: on_closed() follows when it is done.
  virtual void close(std::uint16_t code, std::string_view reason) = 0;
  /// Drops the connection at once, without a closing handshake (the peer sees 1006).
  virtual void terminate() = 0;
};

}  // namespace ocpp
OCPP_API_END

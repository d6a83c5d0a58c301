#pragma once
// One fuzzing connection: a plain TCP socket that does the WebSocket upgrade itself, so that any
// bytes at all can follow it, and reads the server's frames with a deadline.
#include <chrono>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

#include "generators/ws_frame.hpp"
#include "ocpp/client/url.hpp"

namespace ocpp::app::wire_fuzz {

using Clock = std::chrono::steady_clock;

// ws://host[:port][/path] (the library's parse_ws_url); throws std::invalid_argument for another
// URL, wss:// included (not supported).
WsUrl parse_endpoint(const std::string& url);

// Connecting failed. `refused`: nothing listens any more (the sign of a crashed server);
// otherwise the server is there but did not upgrade (an HTTP status, a timeout, a reset).
struct ConnectError : std::runtime_error {
  ConnectError(const std::string& what, bool refused) : std::runtime_error(what), refused(refused) {}
  bool refused;
};

struct ServerEvent {
  enum Kind { Text, Binary, Close, Ping, Pong, Eof, Timeout, Bad } kind = Timeout;
  std::string payload{};   // Text, Binary, Ping, Pong; Close: the reason; Bad: what is wrong
  int close_code = -1;     // Close: -1 when the frame carries none
};

class WireSocket {
 public:
  // Connects and upgrades, offering `protocol`; the subprotocol the server chose is protocol().
  WireSocket(const WsUrl& endpoint, const std::string& identity, const std::string& protocol,
             std::chrono::milliseconds timeout);
  ~WireSocket();
  WireSocket(const WireSocket&) = delete;
  WireSocket& operator=(const WireSocket&) = delete;

  const std::string& protocol() const { return protocol_; }
  // False if the server has closed the connection (the bytes are then not sent).
  bool send(std::string_view bytes);
  // A well-formed, masked frame (a pong, a close, an answer to the server's CALL).
  bool send_frame(std::uint8_t opcode, std::string payload);
  // Nothing more is written, not even a pong or a close: after a frame cut short, any byte would
  // become its payload and turn the case into another.
  void seal() { sealed_ = true; }
  // Closing the socket sends a TCP reset (RST) rather than a FIN.
  void reset_on_close();
  // The next frame or event; Timeout once `deadline` passes.
  ServerEvent next(Clock::time_point deadline);

 private:
  // Reads into the frame reader; false on EOF or a reset, or at the deadline (then *timed_out).
  bool read_some(Clock::time_point deadline, bool* timed_out);

  int fd_ = -1;
  std::string protocol_;
  fuzzgen::FrameReader reader_;
  fuzzgen::Rng mask_rng_{0};  // masking keys of send_frame()
  std::string message_;       // a fragmented message being reassembled
  std::uint8_t message_opcode_ = 0;
  bool eof_ = false;
  bool sealed_ = false;
};

}  // namespace ocpp::app::wire_fuzz

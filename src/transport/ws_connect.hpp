#pragma once
// Internal: opening a client WebSocket (TCP connect + upgrade) with a deadline.
#include <boost/asio/any_io_executor.hpp>

#include <chrono>
#include <exception>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "ocpp/transport/compression.hpp"
#include "ocpp/transport/transport.hpp"

typedef struct ssl_ctx_st SSL_CTX;

namespace ocpp::detail {

struct ConnectRequest {
  std::string host;
  std::string port;
  std::string target;
  std::vector<std::string> protocols;  // offered, in preference order
  std::vector<std::pair<std::string, std::string>> headers;
  std::chrono::milliseconds timeout{30000};
  std::size_t max_frame_bytes = 64 * 1024;
  std::chrono::milliseconds close_timeout{5000};
  std::shared_ptr<SSL_CTX> tls;  // wss://
  std::string server_name;       // SNI and certificate check; default: host
  CompressionOptions compression;
};

struct ConnectOutcome {
  std::shared_ptr<Transport> transport;
  std::string protocol;
  bool compressed = false;   // permessage-deflate negotiated
  std::exception_ptr error;  // ConnectError
};

class ConnectOperation {
 public:
  virtual ~ConnectOperation() = default;
  virtual void cancel() = 0;
};

// `done` runs once on `ex`, also after cancel() (with an error).
std::shared_ptr<ConnectOperation> ws_connect(boost::asio::any_io_executor ex, ConnectRequest request,
                                             std::function<void(ConnectOutcome)> done);

}  // namespace ocpp::detail

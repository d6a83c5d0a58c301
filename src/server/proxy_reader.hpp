#pragma once
// Reading the PROXY protocol header off a freshly accepted socket.
#include <boost/asio/ip/tcp.hpp>

#include <functional>
#include <string>

#include "server/proxy_protocol.hpp"

namespace ocpp::detail {

// Consumes exactly the header's bytes (it peeks, then reads what the header takes), so TLS or HTTP
// read the client's bytes from the socket as if no balancer were there. `done` runs on the
// socket's executor with the header, or with an error (the socket's, eof, or invalid_argument with
// `why` for bytes that are no PROXY header). No timer: the caller's deadline closes the socket.
using ProxyReadHandler = std::function<void(boost::system::error_code, ProxyHeader, std::string why)>;
void async_read_proxy_header(boost::asio::ip::tcp::socket& socket, ProxyReadHandler done);

}  // namespace ocpp::detail

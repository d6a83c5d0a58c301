#include "ocpp/server/server.hpp"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>

#include <atomic>
#include <mutex>
#include <unordered_map>

#include "../session/complete.hpp"
#include "../transport/ws_transport.hpp"
#include "ocpp/server/handshake.hpp"

namespace ocpp {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;

struct Server::Impl : std::enable_shared_from_this<Impl> {
  std::vector<asio::any_io_executor> executors;
  std::atomic<std::size_t> next_executor{0};
  ServerOptions options;
  std::shared_ptr<HandlerTable> handlers = std::make_shared<HandlerTable>();
  std::function<void(const std::shared_ptr<ServerClient>&)> on_client;

  std::mutex mutex;  // guards everything below
  std::vector<std::shared_ptr<tcp::acceptor>> acceptors;
  std::unordered_map<std::string, std::shared_ptr<ServerClient>> registry;
  bool accepting = true;

  asio::any_io_executor pick_executor() {
    return executors[next_executor.fetch_add(1, std::memory_order_relaxed) % executors.size()];
  }

  void accept_loop(std::shared_ptr<tcp::acceptor> acceptor);
  void on_upgraded(std::shared_ptr<ServerClient> client, std::shared_ptr<Transport> transport, std::string protocol);
  void unregister(const ServerClient* client);
  bool is_accepting() {
    std::lock_guard lock(mutex);
    return accepting;
  }
};

struct ServerAccess {
  static std::shared_ptr<ServerClient> make(asio::any_io_executor ex, const ServerOptions& options,
                                            HandshakeInfo info, std::shared_ptr<const HandlerTable> handlers) {
    return std::shared_ptr<ServerClient>(
        new ServerClient(std::move(ex), options, std::move(info), std::move(handlers)));
  }
  static void attach(ServerClient& c, std::shared_ptr<Transport> t, std::string protocol) {
    c.attach(std::move(t), std::move(protocol));
  }
  static void set_protocol(ServerClient& c, const std::string& protocol) { c.set_protocol(protocol); }
  static void set_finished(ServerClient& c, std::function<void(const CloseResult&)> f) {
    c.on_finished_ = std::move(f);
  }
};

ServerClient::ServerClient(executor_type ex, SessionOptions options, HandshakeInfo info,
                           std::shared_ptr<const HandlerTable> shared_handlers)
    : SessionSide(std::move(ex), std::move(options), info.identity, std::move(shared_handlers)),
      handshake_(std::move(info)) {}

void ServerClient::on_finished(const CloseResult& result) {
  if (auto f = std::move(on_finished_)) f(result);
}

namespace {

// One HTTP upgrade, from the first byte to an open WebSocket (or an HTTP error answer).
class Upgrade : public std::enable_shared_from_this<Upgrade> {
 public:
  Upgrade(tcp::socket socket, std::shared_ptr<Server::Impl> server)
      : stream_(std::move(socket)), server_(std::move(server)) {}

  void run() {
    parser_.emplace();
    parser_->header_limit(8 * 1024);
    parser_->body_limit(0);
    stream_.expires_after(server_->options.handshake_timeout);
    http::async_read(stream_, buffer_, *parser_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
      self->on_request(ec);
    });
  }

 private:
  void on_request(beast::error_code ec) {
    if (ec) return;  // timed out, or the peer went away or sent garbage: nothing to answer
    auto& req = parser_->get();
    if (!server_->is_accepting()) return reject(http::status::service_unavailable, "Server is shutting down");
    if (!websocket::is_upgrade(req)) {
      if (req.count(http::field::upgrade)) return reject(http::status::bad_request, "Not a WebSocket upgrade");
      return reject(http::status::not_found, "Not found");
    }
    RequestPath path = parse_request_target(req.target());
    if (path.identity.empty()) return reject(http::status::bad_request, "Missing identity in URL path");
    auto offered = parse_subprotocols(req[http::field::sec_websocket_protocol]);
    if (!offered) return reject(http::status::bad_request, "Malformed Sec-WebSocket-Protocol header");

    const auto& accepted = server_->options.protocols;
    protocol_ = accepted.empty() ? (offered->empty() ? std::string() : offered->front())
                                 : negotiate_subprotocol(accepted, *offered);
    const bool mismatch = !accepted.empty() && protocol_.empty();
    if (mismatch && server_->options.protocol_mismatch == ProtocolMismatch::http_400)
      return reject(http::status::bad_request, offered->empty() ? "Missing subprotocol" : "No matching subprotocol");

    if (server_->options.duplicate_identity == DuplicateIdentity::reject_new && !mismatch) {
      std::lock_guard lock(server_->mutex);
      if (server_->registry.count(path.identity)) return reject(http::status::conflict, "Identity already connected");
    }

    info_.identity = std::move(path.identity);
    info_.path = std::move(path.path);
    info_.query = std::move(path.query);
    info_.offered_protocols = std::move(*offered);
    beast::error_code ignored;
    const auto remote = stream_.socket().remote_endpoint(ignored);
    info_.remote_address = remote.address().to_string();

    ws_.emplace(std::move(stream_));
    ws_->set_option(websocket::stream_base::decorator(
        [name = server_->options.server_header, protocol = protocol_](websocket::response_type& res) {
          res.set(http::field::server, name);
          if (!protocol.empty()) res.set(http::field::sec_websocket_protocol, protocol);
        }));
    ws_->read_message_max(server_->options.max_frame_bytes);
    ws_->async_accept(req, [self = shared_from_this(), mismatch](beast::error_code ec) {
      if (ec) return;
      if (mismatch) return self->close_mismatch();
      self->on_accepted();
    });
  }

  void close_mismatch() {
    ws_->async_close(websocket::close_reason(websocket::close_code::protocol_error, "No matching subprotocol"),
                     [self = shared_from_this()](beast::error_code) {});
  }

  void on_accepted() {
    parser_.reset();
    auto ex = ws_->get_executor();
    auto client = ServerAccess::make(ex, server_->options, std::move(info_), server_->handlers);
    auto transport = detail::make_ws_transport(std::move(*ws_), server_->options.max_frame_bytes);
    server_->on_upgraded(std::move(client), std::move(transport), std::move(protocol_));
  }

  void reject(http::status status, std::string_view message) {
    auto res = std::make_shared<http::response<http::string_body>>(status, 11);
    res->set(http::field::server, server_->options.server_header);
    res->set(http::field::content_type, "text/plain; charset=utf-8");
    res->set(http::field::connection, "close");
    res->body() = std::string(message);
    res->prepare_payload();
    http::async_write(stream_, *res, [self = shared_from_this(), res](beast::error_code, std::size_t) {
      beast::error_code ignored;
      self->stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
      self->stream_.socket().close(ignored);
    });
  }

  beast::tcp_stream stream_;
  std::optional<detail::WsStream> ws_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::empty_body>> parser_;
  std::shared_ptr<Server::Impl> server_;
  HandshakeInfo info_;
  std::string protocol_;
};

}  // namespace

void Server::Impl::accept_loop(std::shared_ptr<tcp::acceptor> acceptor) {
  acceptor->async_accept(pick_executor(), [self = shared_from_this(), acceptor](beast::error_code ec,
                                                                                tcp::socket socket) {
    if (ec == asio::error::operation_aborted || !acceptor->is_open()) return;
    if (ec) {
      // Typically out of file descriptors: back off briefly instead of spinning.
      auto timer = std::make_shared<asio::steady_timer>(acceptor->get_executor(), std::chrono::milliseconds(50));
      timer->async_wait([self, acceptor, timer](beast::error_code) { self->accept_loop(acceptor); });
      return;
    }
    beast::error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);
    auto ex = socket.get_executor();
    asio::post(ex, [up = std::make_shared<Upgrade>(std::move(socket), self)] { up->run(); });
    self->accept_loop(acceptor);
  });
}

void Server::Impl::on_upgraded(std::shared_ptr<ServerClient> client, std::shared_ptr<Transport> transport,
                               std::string protocol) {
  std::shared_ptr<ServerClient> evicted;
  {
    std::lock_guard lock(mutex);
    if (!accepting) {
      transport->close(close_code::going_away, "Server is shutting down");
      return;
    }
    auto& slot = registry[client->identity()];
    evicted = std::move(slot);
    slot = client;
  }
  // Only the connection that still owns the identity may remove it: an evicted socket's late
  // close must never unregister its successor.
  ServerAccess::set_finished(*client, [weak = weak_from_this(), raw = client.get()](const CloseResult&) {
    if (auto self = weak.lock()) self->unregister(raw);
  });
  ServerAccess::set_protocol(*client, protocol);
  if (evicted) evicted->close(CloseOptions{close_code::evicted, "Evicted by new connection", false, false});
  if (on_client) on_client(client);
  ServerAccess::attach(*client, std::move(transport), std::move(protocol));
}

void Server::Impl::unregister(const ServerClient* client) {
  std::lock_guard lock(mutex);
  auto it = registry.find(client->identity());
  if (it != registry.end() && it->second.get() == client) registry.erase(it);
}

Server::Server(asio::any_io_executor executor, ServerOptions options)
    : Server(std::vector<asio::any_io_executor>{std::move(executor)}, std::move(options)) {}

Server::Server(std::vector<asio::any_io_executor> executors, ServerOptions options)
    : impl_(std::make_shared<Impl>()) {
  if (executors.empty()) throw std::invalid_argument("Server needs at least one executor");
  check_strict_mode_options(options.strict_mode);
  impl_->executors = std::move(executors);
  impl_->options = std::move(options);
}

namespace {
// Acceptors are closed on their own executor: their accept loop may be running there right now.
void close_acceptors(std::vector<std::shared_ptr<tcp::acceptor>> acceptors) {
  for (auto& a : acceptors)
    asio::dispatch(a->get_executor(), [a] {
      beast::error_code ignored;
      a->close(ignored);
    });
}
}  // namespace

Server::~Server() {
  std::vector<std::shared_ptr<tcp::acceptor>> acceptors;
  {
    std::lock_guard lock(impl_->mutex);
    acceptors.swap(impl_->acceptors);
  }
  close_acceptors(std::move(acceptors));
}

std::uint16_t Server::listen(std::uint16_t port, const std::string& host) {
  auto acceptor = std::make_shared<tcp::acceptor>(impl_->executors.front());
  const tcp::endpoint endpoint(asio::ip::make_address(host), port);
  acceptor->open(endpoint.protocol());
  acceptor->set_option(asio::socket_base::reuse_address(true));
  acceptor->bind(endpoint);
  acceptor->listen(asio::socket_base::max_listen_connections);
  const auto bound = acceptor->local_endpoint().port();
  {
    std::lock_guard lock(impl_->mutex);
    impl_->accepting = true;
    impl_->acceptors.push_back(acceptor);
  }
  asio::dispatch(acceptor->get_executor(), [impl = impl_, acceptor] { impl->accept_loop(acceptor); });
  return bound;
}

void Server::on_client(std::function<void(const std::shared_ptr<ServerClient>&)> f) {
  impl_->on_client = std::move(f);
}

HandlerTable& Server::handlers() { return *impl_->handlers; }

std::shared_ptr<ServerClient> Server::get_client(std::string_view identity) const {
  std::lock_guard lock(impl_->mutex);
  auto it = impl_->registry.find(std::string(identity));
  return it == impl_->registry.end() ? nullptr : it->second;
}

std::vector<std::shared_ptr<ServerClient>> Server::clients() const {
  std::lock_guard lock(impl_->mutex);
  std::vector<std::shared_ptr<ServerClient>> out;
  out.reserve(impl_->registry.size());
  for (const auto& [id, c] : impl_->registry) out.push_back(c);
  return out;
}

std::size_t Server::client_count() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->registry.size();
}

void Server::start_close(CloseOptions options, asio::any_completion_handler<void()> handler) {
  std::vector<std::shared_ptr<ServerClient>> open;
  std::vector<std::shared_ptr<tcp::acceptor>> acceptors;
  {
    std::lock_guard lock(impl_->mutex);
    impl_->accepting = false;
    acceptors.swap(impl_->acceptors);
    for (const auto& [id, c] : impl_->registry) open.push_back(c);
  }
  close_acceptors(std::move(acceptors));
  auto ex = impl_->executors.front();
  if (open.empty()) {
    detail::complete_later(ex, std::move(handler));
    return;
  }
  struct Remaining {
    Remaining(std::size_t n, asio::any_completion_handler<void()> h, asio::any_io_executor e)
        : count(n), handler(std::move(h)), ex(std::move(e)) {}
    std::atomic<std::size_t> count;
    asio::any_completion_handler<void()> handler;
    asio::any_io_executor ex;
  };
  auto remaining = std::make_shared<Remaining>(open.size(), std::move(handler), ex);
  for (auto& c : open)
    c->close(options, [remaining](CloseResult) {
      if (--remaining->count == 0) detail::complete_later(remaining->ex, std::move(remaining->handler));
    });
}

}  // namespace ocpp

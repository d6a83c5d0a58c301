#include "server/listener.hpp"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include <stdexcept>
#include <string>

#include "transport/net_stream.hpp"

namespace ocpp::detail {
namespace asio = boost::asio;
using tcp = asio::ip::tcp;

struct Listeners::Listener {
  std::shared_ptr<tcp::acceptor> acceptor;
  SecurityProfile profile = SecurityProfile::none;
  bool proxy_protocol = false;
  std::uint16_t port = 0;
  std::shared_ptr<const TlsSettings> tls;  // guarded by Listeners::mutex_
};

namespace {
std::shared_ptr<const TlsSettings> make_tls_settings(SecurityProfile profile, const ServerTlsOptions& options) {
  return std::make_shared<const TlsSettings>(TlsSettings{make_server_context(profile, options), options.binding});
}
}  // namespace

Listeners::Listeners(std::vector<asio::any_io_executor> executors, AcceptHandler on_accept)
    : executors_(std::move(executors)), on_accept_(std::move(on_accept)) {}

asio::any_io_executor Listeners::pick_executor() {
  return executors_[next_executor_.fetch_add(1, std::memory_order_relaxed) % executors_.size()];
}

std::uint16_t Listeners::listen(const ListenOptions& options, const std::function<void()>& bound) {
  auto listener = std::make_shared<Listener>();
  listener->profile = options.profile;
  listener->proxy_protocol = options.proxy_protocol;
  if (uses_tls(options.profile)) listener->tls = make_tls_settings(options.profile, options.tls);
  auto acceptor = std::make_shared<tcp::acceptor>(executors_.front());
  listener->acceptor = acceptor;
  const tcp::endpoint endpoint(asio::ip::make_address(options.host), options.port);
  acceptor->open(endpoint.protocol());
  close_on_exec(acceptor->native_handle());
  acceptor->set_option(asio::socket_base::reuse_address(true));
  acceptor->bind(endpoint);
  acceptor->listen(asio::socket_base::max_listen_connections);
  listener->port = acceptor->local_endpoint().port();
  {
    std::lock_guard lock(mutex_);
    listeners_.push_back(listener);
  }
  bound();
  asio::dispatch(acceptor->get_executor(), [self = shared_from_this(), listener] { self->accept_loop(listener); });
  return listener->port;
}

void Listeners::update_tls(std::uint16_t port, const ServerTlsOptions& tls) {
  std::shared_ptr<Listener> listener;
  {
    std::lock_guard lock(mutex_);
    for (auto& l : listeners_)
      if (l->port == port && l->tls) listener = l;
  }
  if (!listener) throw std::invalid_argument("No TLS listener on port " + std::to_string(port));
  auto settings = make_tls_settings(listener->profile, tls);  // may throw: the old settings stay
  std::lock_guard lock(mutex_);
  listener->tls = std::move(settings);
}

// Acceptors are closed on their own executor: their accept loop may be running there right now.
void Listeners::close() {
  std::vector<std::shared_ptr<Listener>> listeners;
  {
    std::lock_guard lock(mutex_);
    listeners.swap(listeners_);
  }
  for (auto& l : listeners)
    asio::dispatch(l->acceptor->get_executor(), [a = l->acceptor] {
      boost::system::error_code ignored;
      a->close(ignored);
    });
}

void Listeners::accept_loop(std::shared_ptr<Listener> listener) {
  auto& acceptor = *listener->acceptor;
  acceptor.async_accept(pick_executor(), [self = shared_from_this(), listener](boost::system::error_code ec,
                                                                              tcp::socket socket) {
    auto& acceptor = *listener->acceptor;
    if (ec == asio::error::operation_aborted || !acceptor.is_open()) return;
    if (ec) {
      // Typically out of file descriptors: back off briefly instead of spinning.
      auto timer = std::make_shared<asio::steady_timer>(acceptor.get_executor(), std::chrono::milliseconds(50));
      timer->async_wait([self, listener, timer](boost::system::error_code) { self->accept_loop(listener); });
      return;
    }
    prepare_connection(socket);
    std::shared_ptr<const TlsSettings> tls;
    {
      std::lock_guard lock(self->mutex_);
      tls = listener->tls;
    }
    self->on_accept_(std::move(socket), listener->profile, std::move(tls), listener->proxy_protocol);
    self->accept_loop(listener);
  });
}

}  // namespace ocpp::detail

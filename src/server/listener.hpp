#pragma once
// The listening sockets and their accept loops. Each listener has a security profile and, with TLS,
// settings that update_tls swaps for new connections.
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include "ocpp/server/server.hpp"
#include "tls/context.hpp"

namespace ocpp::detail {

// What a TLS listener gives each new connection; update_tls swaps it whole.
struct TlsSettings {
  SslContext context;
  CertificateBinding binding;
};

class Listeners : public std::enable_shared_from_this<Listeners> {
 public:
  using AcceptHandler =
      std::function<void(boost::asio::ip::tcp::socket, SecurityProfile, std::shared_ptr<const TlsSettings>,
                         bool proxy_protocol)>;

  // Accepts on the first executor and gives each connection the next executor, round-robin.
  Listeners(std::vector<boost::asio::any_io_executor> executors, AcceptHandler on_accept);

  // Binds (throws when that fails), runs `bound`, then starts accepting; returns the bound port.
  std::uint16_t listen(const ListenOptions& options, const std::function<void()>& bound);
  void update_tls(std::uint16_t port, const ServerTlsOptions& tls);
  // Closes every acceptor; listen() works again afterwards.
  void close();

 private:
  struct Listener;
  void accept_loop(std::shared_ptr<Listener> listener);
  boost::asio::any_io_executor pick_executor();

  const std::vector<boost::asio::any_io_executor> executors_;
  std::atomic<std::size_t> next_executor_{0};
  const AcceptHandler on_accept_;
  std::mutex mutex_;  // guards listeners_ and each listener's tls
  std::vector<std::shared_ptr<Listener>> listeners_;
};

}  // namespace ocpp::detail

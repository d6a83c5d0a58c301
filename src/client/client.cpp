#include "ocpp/client/client.hpp"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include <random>
#include <stdexcept>

#include "ocpp/client/url.hpp"
#include "ocpp/http/basic_auth.hpp"
#include "session/complete.hpp"
#include "tls/context.hpp"
#include "transport/ws_connect.hpp"

namespace ocpp {
namespace asio = boost::asio;

struct Client::ReconnectTimer {
  explicit ReconnectTimer(const asio::any_io_executor& ex) : timer(ex) {}
  asio::steady_timer timer;
  std::minstd_rand rng{std::random_device{}()};
};

std::shared_ptr<Client> Client::create(asio::any_io_executor executor, ClientOptions options) {
  return std::shared_ptr<Client>(new Client(std::move(executor), std::move(options)));
}

namespace {

// Refuses, before any connection, a profile that cannot work with the URL and the credentials.
SecurityProfile check_security_profile(const ClientOptions& o, bool secure) {
  const bool has_password = o.password.has_value();
  const bool has_cert = !o.tls.cert_file.empty() || !o.tls.key_file.empty();
  const auto profile =
      o.security_profile.value_or(secure ? (has_cert ? SecurityProfile::tls_client_cert : SecurityProfile::tls_basic_auth)
                                         : (has_password ? SecurityProfile::basic_auth : SecurityProfile::none));
  const auto n = std::to_string(static_cast<int>(profile));
  if (static_cast<int>(profile) < 0 || static_cast<int>(profile) > 3)
    throw std::invalid_argument("Security profile " + n + " does not exist (0-3)");
  if (uses_tls(profile) != secure)
    throw std::invalid_argument("Security profile " + n + " needs a " + (secure ? "ws://" : "wss://") + " endpoint, not " +
                                o.endpoint);
  // Inferred, wss:// without a password is TLS alone, outside the profiles but useful in tests.
  if (uses_password(profile) && !has_password && o.security_profile)
    throw std::invalid_argument("Security profile " + n + " needs a password (Basic Auth)");
  if (!uses_password(profile) && has_password)
    throw std::invalid_argument("Security profile " + n + " sends no password; use profile " +
                                (secure ? "2" : "1") + " for Basic Auth");
  if (profile == SecurityProfile::tls_client_cert && (o.tls.cert_file.empty() || o.tls.key_file.empty()))
    throw std::invalid_argument("Security profile 3 needs a client certificate and key (tls.cert_file, tls.key_file)");
  if (profile != SecurityProfile::tls_client_cert && has_cert)
    throw std::invalid_argument("A client certificate is only sent with security profile 3");
  return profile;
}

}  // namespace

Client::Client(asio::any_io_executor executor, ClientOptions options)
    : SessionSide(executor, options, options.identity), client_options_(std::move(options)) {
  if (client_options_.identity.empty()) throw std::invalid_argument("ClientOptions::identity is required");
  check_compression_options(client_options_.compression, client_options_.max_frame_bytes);
  auto url = parse_ws_url(client_options_.endpoint);
  if (!url) throw std::invalid_argument("ClientOptions::endpoint must be a ws:// or wss:// URL");
  profile_ = check_security_profile(client_options_, url->secure);
  if (url->secure) tls_context_ = detail::make_client_context(client_options_.tls);
  host_ = url->host;
  port_ = url->port;
  target_ = build_target(*url, client_options_.identity, client_options_.query);
  url_ = client_options_.endpoint.substr(0, client_options_.endpoint.find("://") + 3) +
         (host_.find(':') != std::string::npos ? "[" + host_ + "]" : host_) + ":" + port_ + target_;
  offered_ = client_options_.protocols;
  if (const auto& rule = client_options_.retry_back_off;
      rule && (rule->wait_minimum.count() < 0 || rule->random_range.count() < 0))
    throw std::invalid_argument("ClientOptions::retry_back_off needs a wait_minimum and random_range of 0 or more");
  reconnect_timer_ = std::make_unique<ReconnectTimer>(executor);
}

Client::~Client() = default;

void Client::start_connect(ConnectHandler handler) {
  asio::dispatch(get_executor(), [self = std::static_pointer_cast<Client>(shared_from_this()),
                                  wrapped = detail::MoveOnly(std::move(handler))]() mutable {
    auto& handler = wrapped.h;
    switch (self->state()) {
      case ConnectionState::open:
        detail::complete_later(self->get_executor(), std::move(handler), std::exception_ptr());
        return;
      case ConnectionState::closing:
        detail::complete_later(self->get_executor(), std::move(handler),
                               std::make_exception_ptr(ConnectError("Cannot connect: the client is closing")));
        return;
      case ConnectionState::connecting:
        self->connect_waiters_.push_back(std::move(handler));
        return;
      case ConnectionState::closed:
        break;
    }
    self->connect_waiters_.push_back(std::move(handler));
    self->set_state(ConnectionState::connecting);
    self->attempts_ = 0;
    self->retry_ = self->client_options_.retry_initial_connect ? Retry::initial : Retry::none;
    self->attempt();
  });
}

void Client::attempt() {
  auto headers = client_options_.headers;
  if (client_options_.password)
    headers.emplace_back("Authorization", basic_auth_header(client_options_.identity, *client_options_.password));
  detail::ConnectRequest req{host_,
                             port_,
                             target_,
                             offered_,
                             std::move(headers),
                             client_options_.connect_timeout,
                             client_options_.max_frame_bytes,
                             client_options_.close_timeout,
                             std::static_pointer_cast<SSL_CTX>(tls_context_),
                             client_options_.tls.server_name,
                             client_options_.compression};
  connecting_ = detail::ws_connect(
      get_executor(), std::move(req),
      [weak = std::weak_ptr<Client>(std::static_pointer_cast<Client>(shared_from_this()))](detail::ConnectOutcome out) {
        auto self = weak.lock();
        if (!self) return;
        self->connecting_.reset();
        if (self->state() != ConnectionState::connecting) return;  // aborted by close()
        if (out.error) {
          bool retry = false;
          std::string why;
          try {
            std::rethrow_exception(out.error);
          } catch (const ConnectError& e) {
            retry = self->retries(e);
            why = e.what();
          }
          if (self->retry_ != Retry::none)
            self->log(LogLevel::warn, (self->retry_ == Retry::reconnect ? "reconnect failed: " : "connect failed: ") + why);
          if (!retry) return self->give_up(out.error, {close_code::going_away, why});
          self->schedule_reconnect(why);
          return;
        }
        self->retry_ = Retry::none;
        self->attempts_ = 0;
        self->compressed_ = out.compressed;
        self->offered_ = {out.protocol};  // keep the protocol on reconnect
        if (self->offered_.front().empty()) self->offered_.clear();
        self->attach(std::move(out.transport), std::move(out.protocol));
        self->complete_connect_waiters(nullptr);
      });
}

// A connect() is not retried unless asked, the first or one after a final close: its caller
// decides. Asked, it waits only for a CSMS that is down or unreachable; a refusal (HTTP 4xx but 408
// and 429) or an untrusted certificate is a misconfiguration the caller should hear of at once.
// Reconnects of an established connection retry all but the handshake results retrying cannot change.
bool Client::retries(const ConnectError& error) const noexcept {
  if (retry_ == Retry::none || !error.retryable()) return false;
  if (retry_ == Retry::reconnect) return true;
  if (dynamic_cast<const CertificateError*>(&error)) return false;
  const auto status = error.http_status();
  return status == 0 || status == 408 || status == 429 || status >= 500;
}

void Client::complete_connect_waiters(std::exception_ptr error) {
  auto waiters = std::move(connect_waiters_);
  connect_waiters_.clear();
  for (auto& w : waiters) detail::complete_later(get_executor(), std::move(w), error);
}

// Ends connecting for good. connect() calls made meanwhile wait in connect_waiters_ and queued
// calls in the engine (failed by finish_close): both must complete on every final path.
void Client::give_up(std::exception_ptr error, const CloseResult& result) {
  retry_ = Retry::none;
  complete_connect_waiters(std::move(error));
  finish_close(result);
}

void Client::schedule_reconnect(const std::string& last_error) {
  if (attempts_ >= client_options_.max_reconnects) {
    const std::string why = "Max reconnection attempts exhausted";
    return give_up(std::make_exception_ptr(ConnectError(why + " (last: " + last_error + ")", 0, false)),
                   {close_code::going_away, why});
  }
  ++attempts_;
  const auto& o = client_options_;
  double r = 1.0;  // the longest wait, should the injected source fail
  try {
    r = o.backoff_random ? o.backoff_random() : std::uniform_real_distribution<double>(0.0, 1.0)(reconnect_timer_->rng);
  } catch (...) {
    log(LogLevel::error, "backoff_random threw: " + describe_exception(std::current_exception()));
  }
  const auto delay = o.retry_back_off ? retry_back_off_delay(*o.retry_back_off, attempts_, last_delay_, r)
                                      : backoff_delay(attempts_, o.backoff_min, o.backoff_max, r);
  last_delay_ = delay;
  if (reconnect_) emit("on_reconnect", reconnect_, ReconnectEvent{attempts_, delay});
  reconnect_timer_->timer.expires_after(delay);
  reconnect_timer_->timer.async_wait(
      [weak = std::weak_ptr<Client>(std::static_pointer_cast<Client>(shared_from_this()))](boost::system::error_code ec) {
        auto self = weak.lock();
        if (ec || !self || self->state() != ConnectionState::connecting) return;
        self->attempt();
      });
}

void Client::on_unexpected_close(const CloseResult& result) {
  emit("on_disconnect", disconnect_, result);
  if (!client_options_.reconnect) {
    finish_close(result);
    return;
  }
  set_state(ConnectionState::connecting);
  attempts_ = 0;
  retry_ = Retry::reconnect;
  schedule_reconnect(result.reason.empty() ? "closed with " + std::to_string(result.code) : result.reason);
}

void Client::on_close_while_not_open() {
  reconnect_timer_->timer.cancel();
  if (auto op = std::move(connecting_)) op->cancel();
  give_up(std::make_exception_ptr(ConnectError("Connection aborted", 0, false)),
          {close_code::going_away, "Connection aborted"});
}

}  // namespace ocpp

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

namespace {
// Which failed attempts are retried: none (a connect() without retry_initial_connect), those after
// an unexpected close, or those of a connect() while the CSMS looks down.
enum class Retry : std::uint8_t { none, reconnect, initial };
}  // namespace

struct Client::State {
  State(ClientOptions o, const asio::any_io_executor& ex) : options(std::move(o)), reconnect_timer(ex) {}

  ClientOptions options;
  std::string host, port, target, url;
  std::vector<std::string> offered;
  SecurityProfile profile = SecurityProfile::none;
  bool compressed = false;
  std::shared_ptr<void> tls_context;  // SSL_CTX, made once: certificates are read at create()
  std::vector<ConnectHandler> connect_waiters;
  std::shared_ptr<detail::ConnectOperation> connecting;
  asio::steady_timer reconnect_timer;
  std::minstd_rand rng{std::random_device{}()};
  unsigned attempts = 0;
  milliseconds last_delay{0};  // the OCPP rule doubles it
  Retry retry = Retry::none;  // until open again or given up
  std::function<void(const CloseResult&)> disconnect;
  std::function<void(const ReconnectEvent&)> reconnect;
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
    : SessionSide(executor, options, options.identity), s_(std::make_unique<State>(std::move(options), executor)) {
  if (s_->options.identity.empty()) throw std::invalid_argument("ClientOptions::identity is required");
  check_compression_options(s_->options.compression, s_->options.max_frame_bytes);
  auto url = parse_ws_url(s_->options.endpoint);
  if (!url) throw std::invalid_argument("ClientOptions::endpoint must be a ws:// or wss:// URL");
  s_->profile = check_security_profile(s_->options, url->secure);
  if (url->secure) s_->tls_context = detail::make_client_context(s_->options.tls);
  s_->host = url->host;
  s_->port = url->port;
  s_->target = build_target(*url, s_->options.identity, s_->options.query);
  s_->url = s_->options.endpoint.substr(0, s_->options.endpoint.find("://") + 3) +
         (s_->host.find(':') != std::string::npos ? "[" + s_->host + "]" : s_->host) + ":" + s_->port + s_->target;
  s_->offered = s_->options.protocols;
  if (const auto& rule = s_->options.retry_back_off;
      rule && (rule->wait_minimum.count() < 0 || rule->random_range.count() < 0))
    throw std::invalid_argument("ClientOptions::retry_back_off needs a wait_minimum and random_range of 0 or more");
}

Client::~Client() = default;

const std::string& Client::url() const noexcept { return s_->url; }
SecurityProfile Client::security_profile() const noexcept { return s_->profile; }
bool Client::compressed() const noexcept { return s_->compressed; }
void Client::on_disconnect(std::function<void(const CloseResult&)> f) { s_->disconnect = std::move(f); }
void Client::on_reconnect(std::function<void(const ReconnectEvent&)> f) { s_->reconnect = std::move(f); }

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
        self->s_->connect_waiters.push_back(std::move(handler));
        return;
      case ConnectionState::closed:
        break;
    }
    self->s_->connect_waiters.push_back(std::move(handler));
    self->set_state(ConnectionState::connecting);
    self->s_->attempts = 0;
    self->s_->retry = self->s_->options.retry_initial_connect ? Retry::initial : Retry::none;
    self->attempt();
  });
}

void Client::attempt() {
  auto headers = s_->options.headers;
  if (s_->options.password)
    headers.emplace_back("Authorization", basic_auth_header(s_->options.identity, *s_->options.password));
  detail::ConnectRequest req{s_->host,
                             s_->port,
                             s_->target,
                             s_->offered,
                             std::move(headers),
                             s_->options.connect_timeout,
                             s_->options.max_frame_bytes,
                             s_->options.close_timeout,
                             std::static_pointer_cast<SSL_CTX>(s_->tls_context),
                             s_->options.tls.server_name,
                             s_->options.compression};
  s_->connecting = detail::ws_connect(
      get_executor(), std::move(req),
      [weak = std::weak_ptr<Client>(std::static_pointer_cast<Client>(shared_from_this()))](detail::ConnectOutcome out) {
        auto self = weak.lock();
        if (!self) return;
        self->s_->connecting.reset();
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
          if (self->s_->retry != Retry::none)
            self->log(LogLevel::warn, (self->s_->retry == Retry::reconnect ? "reconnect failed: " : "connect failed: ") + why);
          if (!retry) return self->give_up(out.error, {close_code::going_away, why});
          self->schedule_reconnect(why);
          return;
        }
        self->s_->retry = Retry::none;
        self->s_->attempts = 0;
        self->s_->compressed = out.compressed;
        self->s_->offered = {out.protocol};  // keep the protocol on reconnect
        if (self->s_->offered.front().empty()) self->s_->offered.clear();
        self->attach(std::move(out.transport), std::move(out.protocol));
        self->complete_connect_waiters(nullptr);
      });
}

// A connect() is not retried unless asked, the first or one after a final close: its caller
// decides. Asked, it waits only for a CSMS that is down or unreachable; a refusal (HTTP 4xx but 408
// and 429) or an untrusted certificate is a misconfiguration the caller should hear of at once.
// Reconnects of an established connection retry all but the handshake results retrying cannot change.
bool Client::retries(const ConnectError& error) const noexcept {
  if (s_->retry == Retry::none || !error.retryable()) return false;
  if (s_->retry == Retry::reconnect) return true;
  if (dynamic_cast<const CertificateError*>(&error)) return false;
  const auto status = error.http_status();
  return status == 0 || status == 408 || status == 429 || status >= 500;
}

void Client::complete_connect_waiters(std::exception_ptr error) {
  auto waiters = std::move(s_->connect_waiters);
  s_->connect_waiters.clear();
  for (auto& w : waiters) detail::complete_later(get_executor(), std::move(w), error);
}

// Ends connecting for good. connect() calls made meanwhile wait in s_->connect_waiters and queued
// calls in the engine (failed by finish_close): both must complete on every final path.
void Client::give_up(std::exception_ptr error, const CloseResult& result) {
  s_->retry = Retry::none;
  complete_connect_waiters(std::move(error));
  finish_close(result);
}

void Client::schedule_reconnect(const std::string& last_error) {
  if (s_->attempts >= s_->options.max_reconnects) {
    const std::string why = "Max reconnection attempts exhausted";
    return give_up(std::make_exception_ptr(ConnectError(why + " (last: " + last_error + ")", 0, false)),
                   {close_code::going_away, why});
  }
  ++s_->attempts;
  const auto& o = s_->options;
  double r = 1.0;  // the longest wait, should the injected source fail
  try {
    r = o.backoff_random ? o.backoff_random() : std::uniform_real_distribution<double>(0.0, 1.0)(s_->rng);
  } catch (...) {
    log(LogLevel::error, "backoff_random threw: " + describe_exception(std::current_exception()));
  }
  const auto delay = o.retry_back_off ? retry_back_off_delay(*o.retry_back_off, s_->attempts, s_->last_delay, r)
                                      : backoff_delay(s_->attempts, o.backoff_min, o.backoff_max, r);
  s_->last_delay = delay;
  if (s_->reconnect) emit("on_reconnect", s_->reconnect, ReconnectEvent{s_->attempts, delay});
  s_->reconnect_timer.expires_after(delay);
  s_->reconnect_timer.async_wait(
      [weak = std::weak_ptr<Client>(std::static_pointer_cast<Client>(shared_from_this()))](boost::system::error_code ec) {
        auto self = weak.lock();
        if (ec || !self || self->state() != ConnectionState::connecting) return;
        self->attempt();
      });
}

void Client::on_unexpected_close(const CloseResult& result) {
  emit("on_disconnect", s_->disconnect, result);
  if (!s_->options.reconnect) {
    finish_close(result);
    return;
  }
  set_state(ConnectionState::connecting);
  s_->attempts = 0;
  s_->retry = Retry::reconnect;
  schedule_reconnect(result.reason.empty() ? "closed with " + std::to_string(result.code) : result.reason);
}

void Client::on_close_while_not_open() {
  s_->reconnect_timer.cancel();
  if (auto op = std::move(s_->connecting)) op->cancel();
  give_up(std::make_exception_ptr(ConnectError("Connection aborted", 0, false)),
          {close_code::going_away, "Connection aborted"});
}

}  // namespace ocpp

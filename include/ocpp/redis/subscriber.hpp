#pragma once
/// @file
/// A pub/sub connection: SUBSCRIBE / PSUBSCRIBE on a connection of its own, messages to one
/// handler, and everything subscribed again after a reconnect (before on_connected fires).
#include <functional>
#include <string>
#include <string_view>

#include "ocpp/redis/connection.hpp"
#include "ocpp/rpc/visibility.hpp"

OCPP_API_BEGIN
namespace ocpp::redis {

/// A Redis connection in subscriber mode: channels and patterns, kept across reconnects. Runs on its executor; members may be called from any thread.
class Subscriber {
 public:
  /// channel: the channel the message was published to (also for pattern subscriptions).
  using MessageHandler = std::function<void(std::string_view channel, std::string_view message)>;

  /// A subscriber with Connection's options; start() connects. A redis-cluster:// URL is taken too:
  /// a message published on any node of a cluster reaches every node, so each connect goes to the
  /// next of its nodes.
  Subscriber(boost::asio::any_io_executor executor, ConnectionOptions options);
  ~Subscriber();
  Subscriber(const Subscriber&) = delete;
  Subscriber& operator=(const Subscriber&) = delete;

  /// Every message of the subscribed channels and patterns. Set before start().
  void on_message(MessageHandler handler);
  /// After every connect. Set before start().
  void on_connected(std::function<void()> hook);
  /// When a connection is lost or a connect fails, with why. Set before start().
  void on_disconnected(std::function<void(const Error&)> hook);

  /// Connects, and reconnects with backoff until stop().
  void start();
  /// Closes the connection; start() may follow.
  void stop();
  /// Whether the connection is up.
  bool connected() const noexcept;

  /// `done` (optional) gets the server's confirmation ([subscribe, channel, count]) or an Error;
  /// either way the subscription is kept and made again after every reconnect until unsubscribed.
  void subscribe(std::string channel, Completion done = {});
  /// Drops a subscription to `channel`.
  void unsubscribe(std::string channel, Completion done = {});
  /// As subscribe(), for a glob-style pattern.
  void psubscribe(std::string pattern, Completion done = {});
  /// Drops a pattern subscription.
  void punsubscribe(std::string pattern, Completion done = {});

  /// A snapshot of the connection's counters.
  Stats stats() const;

 private:
  struct Subscriptions;
  void change(const char* verb, std::string name, Completion done);

  Connection connection_;
  std::shared_ptr<Subscriptions> subscriptions_;
};

}  // namespace ocpp::redis
OCPP_API_END

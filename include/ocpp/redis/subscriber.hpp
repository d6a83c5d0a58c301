#pragma once
// A pub/sub connection: SUBSCRIBE / PSUBSCRIBE on a connection of its own, messages to one
// handler, and everything subscribed again after a reconnect (before on_connected fires).
#include <functional>
#include <string>
#include <string_view>

#include "ocpp/redis/connection.hpp"
#include "ocpp/rpc/visibility.hpp"

OCPP_API_BEGIN
namespace ocpp::redis {

class Subscriber {
 public:
  // channel: the channel the message was published to (also for pattern subscriptions).
  using MessageHandler = std::function<void(std::string_view channel, std::string_view message)>;

  Subscriber(boost::asio::any_io_executor executor, ConnectionOptions options);
  ~Subscriber();
  Subscriber(const Subscriber&) = delete;
  Subscriber& operator=(const Subscriber&) = delete;

  // Set before start().
  void on_message(MessageHandler handler);
  void on_connected(std::function<void()> hook);
  void on_disconnected(std::function<void(const Error&)> hook);

  void start();
  void stop();
  bool connected() const noexcept;

  // `done` (optional) gets the server's confirmation ([subscribe, channel, count]) or an Error;
  // either way the subscription is kept and made again after every reconnect until unsubscribed.
  void subscribe(std::string channel, Completion done = {});
  void unsubscribe(std::string channel, Completion done = {});
  void psubscribe(std::string pattern, Completion done = {});
  void punsubscribe(std::string pattern, Completion done = {});

  Stats stats() const;

 private:
  struct Subscriptions;
  void change(const char* verb, std::string name, Completion done);

  Connection connection_;
  std::shared_ptr<Subscriptions> subscriptions_;
};

}  // namespace ocpp::redis
OCPP_API_END

#include "ocpp/redis/subscriber.hpp"

#include <array>
#include <set>

#include "redis/core.hpp"
#include "redis/resp.hpp"

namespace ocpp::redis {

// Touched on the executor only.
struct Subscriber::Subscriptions {
  std::set<std::string> channels, patterns;
  MessageHandler handler;
};

Subscriber::Subscriber(boost::asio::any_io_executor executor, ConnectionOptions options)
    : connection_(std::move(executor), std::move(options), Connection::AnyNode{}), subscriptions_(std::make_shared<Subscriptions>()) {
  auto& hooks = connection_.core_->hooks;
  // One command per name, so that each draws one confirmation: they are then ordinary replies in
  // the pipeline's order, and only messages are pushed.
  hooks.handshake = [subs = subscriptions_] {
    std::vector<std::string> commands;
    for (const auto& c : subs->channels)
      commands.push_back(encode_command(std::array<std::string_view, 2>{"SUBSCRIBE", c}));
    for (const auto& p : subs->patterns)
      commands.push_back(encode_command(std::array<std::string_view, 2>{"PSUBSCRIBE", p}));
    return commands;
  };
  hooks.push = [subs = subscriptions_](const Reply& reply) {
    if (!reply.is_array() || !reply[0].is_string()) return false;
    const auto& kind = reply[0].str();
    if (kind == "message" && reply.elements().size() == 3) {
      if (subs->handler) subs->handler(reply[1].str(), reply[2].str());
      return true;
    }
    if (kind == "pmessage" && reply.elements().size() == 4) {
      if (subs->handler) subs->handler(reply[2].str(), reply[3].str());
      return true;
    }
    return false;
  };
}

Subscriber::~Subscriber() = default;

void Subscriber::on_message(MessageHandler handler) { subscriptions_->handler = std::move(handler); }
void Subscriber::on_connected(std::function<void()> hook) { connection_.on_connected(std::move(hook)); }
void Subscriber::on_disconnected(std::function<void(const Error&)> hook) {
  connection_.on_disconnected(std::move(hook));
}
void Subscriber::start() { connection_.start(); }
void Subscriber::stop() { connection_.stop(); }
bool Subscriber::connected() const noexcept { return connection_.connected(); }
Stats Subscriber::stats() const { return connection_.stats(); }

void Subscriber::subscribe(std::string channel, Completion done) {
  change("SUBSCRIBE", std::move(channel), std::move(done));
}
void Subscriber::unsubscribe(std::string channel, Completion done) {
  change("UNSUBSCRIBE", std::move(channel), std::move(done));
}
void Subscriber::psubscribe(std::string pattern, Completion done) {
  change("PSUBSCRIBE", std::move(pattern), std::move(done));
}
void Subscriber::punsubscribe(std::string pattern, Completion done) {
  change("PUNSUBSCRIBE", std::move(pattern), std::move(done));
}

// The set changes on the executor before the command is issued there, so a reconnect in between
// subscribes it once more at worst (the server confirms a repeated SUBSCRIBE as well).
void Subscriber::change(const char* verb, std::string name, Completion done) {
  auto core = connection_.core_;
  core->run([core, subs = subscriptions_, verb = std::string_view(verb), name = std::move(name),
             done = std::move(done)]() mutable {
    auto& set = verb.find("PSUB") == 0 || verb.find("PUNSUB") == 0 ? subs->patterns : subs->channels;
    if (verb.find("UNSUB") != std::string_view::npos)
      set.erase(name);
    else
      set.insert(name);
    core->command(encode_command(std::array<std::string_view, 2>{verb, name}), core->options().command_timeout,
                  std::move(done));
  });
}

}  // namespace ocpp::redis

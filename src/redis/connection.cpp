#include "ocpp/redis/connection.hpp"

#include <openssl/evp.h>

#include <stdexcept>

#include "redis/core.hpp"
#include "redis/resp.hpp"

namespace ocpp::redis {

Script::Script(std::string source) : source_(std::move(source)) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  if (EVP_Digest(source_.data(), source_.size(), digest, &size, EVP_sha1(), nullptr) != 1)
    throw std::runtime_error("SHA1 of a Lua script failed");
  static constexpr char kHex[] = "0123456789abcdef";
  sha1_.reserve(2 * size);
  for (unsigned int i = 0; i < size; ++i) {
    sha1_ += kHex[digest[i] >> 4];
    sha1_ += kHex[digest[i] & 15];
  }
}

Connection::Connection(boost::asio::any_io_executor executor, ConnectionOptions options)
    : core_(make_core(std::move(executor), std::move(options))) {}

Connection::Connection(boost::asio::any_io_executor executor, ConnectionOptions options, AnyNode)
    : core_(make_core(std::move(executor), std::move(options), true)) {}

Connection::~Connection() { core_->stop(); }

boost::asio::any_io_executor Connection::get_executor() const noexcept { return core_->executor(); }
void Connection::start() { core_->start(); }
void Connection::stop() { core_->stop(); }
bool Connection::connected() const noexcept { return core_->connected(); }
Stats Connection::stats() const { return core_->stats(); }
void Connection::on_connected(std::function<void()> hook) { core_->hooks.connected = std::move(hook); }
void Connection::on_disconnected(std::function<void(const Error&)> hook) {
  core_->hooks.disconnected = std::move(hook);
}

namespace {

// Redis answers an empty command with nothing at all, which would pair every later reply with the
// wrong command.
template <class Range>
std::string encode_checked(const Range& args) {
  if (args.size() == 0) throw std::invalid_argument("a Redis command needs at least its name");
  return encode_command(args);
}

}  // namespace

void Connection::command(const std::vector<std::string>& args, Completion done) {
  core_->command(encode_checked(args), core_->options().command_timeout, std::move(done));
}
void Connection::command(const std::vector<std::string>& args, std::chrono::milliseconds timeout, Completion done) {
  core_->command(encode_checked(args), timeout, std::move(done));
}
void Connection::command(std::initializer_list<std::string_view> args, Completion done) {
  core_->command(encode_checked(args), core_->options().command_timeout, std::move(done));
}
void Connection::command(std::initializer_list<std::string_view> args, std::chrono::milliseconds timeout,
                         Completion done) {
  core_->command(encode_checked(args), timeout, std::move(done));
}

namespace {

std::string script_command(std::string_view verb, std::string_view script, const std::vector<std::string>& keys,
                           const std::vector<std::string>& args) {
  std::vector<std::string_view> parts{verb, script};
  const auto count = std::to_string(keys.size());
  parts.push_back(count);
  parts.insert(parts.end(), keys.begin(), keys.end());
  parts.insert(parts.end(), args.begin(), args.end());
  return encode_command(parts);
}

}  // namespace

void Connection::eval(const Script& script, const std::vector<std::string>& keys, const std::vector<std::string>& args,
                      Completion done) {
  eval(script, keys, args, core_->options().command_timeout, std::move(done));
}

void Connection::eval(const Script& script, const std::vector<std::string>& keys, const std::vector<std::string>& args,
                      std::chrono::milliseconds timeout, Completion done) {
  // The source is encoded only when the server lacks the script (after a restart or SCRIPT
  // FLUSH); the completion holds the core weakly, as the core holds the completion.
  auto retry = [core = std::weak_ptr<Core>(core_), source = script.source(), keys, args, timeout,
                done = std::move(done)](Result result) mutable {
    auto alive = core.lock();
    if (alive && !result && result.error().code() == "NOSCRIPT")
      return alive->command(script_command("EVAL", source, keys, args), timeout, std::move(done));
    if (done) done(std::move(result));
  };
  core_->command(script_command("EVALSHA", script.sha1(), keys, args), timeout, std::move(retry));
}

}  // namespace ocpp::redis

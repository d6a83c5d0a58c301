#include "cluster/redis_store.hpp"

#include "ocpp/redis/url.hpp"

namespace ocpp::cluster::detail {

RedisStore::RedisStore(boost::asio::any_io_executor executor, redis::ConnectionOptions options) {
  if (redis::parse_url(options.url).cluster())
    cluster_ = std::make_unique<redis::ClusterClient>(std::move(executor), std::move(options));
  else
    single_ = std::make_unique<redis::Connection>(std::move(executor), std::move(options));
}

void RedisStore::start() { cluster_ ? cluster_->start() : single_->start(); }
void RedisStore::stop() { cluster_ ? cluster_->stop() : single_->stop(); }

void RedisStore::command(std::string_view key, std::vector<std::string> args, redis::Completion done) {
  if (cluster_) return cluster_->command(key, std::move(args), std::move(done));
  single_->command(args, std::move(done));
}

void RedisStore::command(std::string_view key, std::vector<std::string> args, std::chrono::milliseconds timeout,
                         redis::Completion done) {
  if (cluster_) return cluster_->command(key, std::move(args), timeout, std::move(done));
  single_->command(args, timeout, std::move(done));
}

void RedisStore::eval(const redis::Script& script, std::vector<std::string> keys, std::vector<std::string> args,
                      redis::Completion done) {
  if (cluster_) return cluster_->eval(script, std::move(keys), std::move(args), std::move(done));
  single_->eval(script, keys, args, std::move(done));
}

void RedisStore::eval(const redis::Script& script, std::vector<std::string> keys, std::vector<std::string> args,
                      std::chrono::milliseconds timeout, redis::Completion done) {
  if (cluster_) return cluster_->eval(script, std::move(keys), std::move(args), timeout, std::move(done));
  single_->eval(script, keys, args, timeout, std::move(done));
}

void RedisStore::on_maybe_failed_over(std::function<void()> hook) {
  if (single_)
    single_->on_connected(std::move(hook));
  else
    cluster_->on_masters_changed(std::move(hook));
}

std::uint64_t RedisStore::master_changes() const {
  if (single_) return single_->stats().master_changes;
  // A promoted replica takes its master's place in the slot map: another set of masters.
  auto masters = cluster_->masters();
  std::sort(masters.begin(), masters.end());
  std::lock_guard lock(mutex_);
  if (masters != masters_) {
    if (!masters_.empty()) ++cluster_changes_;
    masters_ = std::move(masters);
  }
  return cluster_changes_;
}

redis::Stats RedisStore::stats() const { return cluster_ ? cluster_->stats().connections : single_->stats(); }

}  // namespace ocpp::cluster::detail

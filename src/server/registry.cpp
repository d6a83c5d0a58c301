#include "server/registry.hpp"

#include <boost/asio/dispatch.hpp>

#include <algorithm>

namespace ocpp::detail {

LocalRegistry::LocalRegistry(boost::asio::any_io_executor sweep_executor, const ServerOptions& options)
    : duplicate_identity_(options.duplicate_identity),
      station_ttl_(options.station_ttl),
      stations_(options.station_ttl, options.max_stations, options.clock),
      sweep_executor_(std::move(sweep_executor)) {}

void LocalRegistry::open() {
  {
    std::lock_guard lock(mutex_);
    accepting_ = true;
  }
  boost::asio::dispatch(sweep_executor_, [self = shared_from_this()] {
    if (!self->sweeper_) self->schedule_sweep();
  });
}

void LocalRegistry::close() {
  {
    std::lock_guard lock(mutex_);
    accepting_ = false;
  }
  stop_sweeping();
}

bool LocalRegistry::accepting() const {
  std::lock_guard lock(mutex_);
  return accepting_;
}

// Expired stations are already invisible; the sweep only gives their memory back.
void LocalRegistry::schedule_sweep() {
  if (!sweeper_) sweeper_.emplace(sweep_executor_);
  sweeper_->expires_after(std::min<std::chrono::steady_clock::duration>(station_ttl_, std::chrono::minutes(1)));
  sweeper_->async_wait([weak = weak_from_this()](boost::system::error_code ec) {
    if (ec) return;
    if (auto self = weak.lock()) {
      self->stations_.sweep();
      self->schedule_sweep();
    }
  });
}

void LocalRegistry::stop_sweeping() {
  boost::asio::dispatch(sweep_executor_, [self = shared_from_this()] { self->sweeper_.reset(); });
}

bool LocalRegistry::refuses(std::string_view identity) const {
  if (duplicate_identity_ != DuplicateIdentity::reject_new) return false;
  std::lock_guard lock(mutex_);
  return slots_.contains(identity);
}

Registry::Attached LocalRegistry::attach_station(std::string_view identity, boost::json::object state) {
  auto attached = stations_.attach(identity, state);
  if (!attached.created)
    for (auto& kv : state) attached.station->data[kv.key()] = std::move(kv.value());
  return {std::move(attached.station), attached.generation, attached.created};
}

Registry::Added LocalRegistry::add(std::shared_ptr<ServerClient> client, std::uint64_t generation) {
  Added added;
  {
    std::lock_guard lock(mutex_);
    if (!accepting_) {
      stations_.detach(client->identity(), generation);
      return added;
    }
    auto& slot = slots_[client->identity()];
    added.evicted = std::move(slot.client);
    slot = {std::move(client), generation};
  }
  ++connections_;
  added.added = true;
  return added;
}

void LocalRegistry::remove(std::string_view identity, std::uint64_t generation) {
  --connections_;
  stations_.detach(identity, generation);
  std::lock_guard lock(mutex_);
  auto it = slots_.find(identity);
  if (it != slots_.end() && it->second.generation == generation) slots_.erase(it);
}

std::shared_ptr<ServerClient> LocalRegistry::find(std::string_view identity) const {
  std::lock_guard lock(mutex_);
  auto it = slots_.find(identity);
  return it == slots_.end() ? nullptr : it->second.client;
}

std::vector<std::shared_ptr<ServerClient>> LocalRegistry::all() const {
  std::lock_guard lock(mutex_);
  std::vector<std::shared_ptr<ServerClient>> out;
  out.reserve(slots_.size());
  for (const auto& [identity, slot] : slots_) out.push_back(slot.client);
  return out;
}

std::size_t LocalRegistry::size() const {
  std::lock_guard lock(mutex_);
  return slots_.size();
}

}  // namespace ocpp::detail

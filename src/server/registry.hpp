#pragma once
// Which station is connected here: identity -> connection, the duplicate-identity policy, and each
// identity's StationState. Abstract so that a cluster layer can add presence on other nodes; the
// server itself only needs the LocalRegistry.
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/json/object.hpp>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "ocpp/server/server.hpp"
#include "ocpp/server/station_state.hpp"

namespace ocpp::detail {

class Registry {
 public:
  virtual ~Registry() = default;

  // Registrations are taken from open() (listen()) until close() (Server::close(), ~Server), which
  // also stops the sweep.
  virtual void open() = 0;
  virtual void close() = 0;
  virtual bool accepting() const = 0;
  virtual void stop_sweeping() = 0;

  // Connections registered and not yet removed, evicted ones included until they close: what
  // max_connections caps.
  virtual std::size_t connections() const = 0;
  // Whether the duplicate policy refuses a new connection of `identity` now (reject_new, connected).
  virtual bool refuses(std::string_view identity) const = 0;

  struct Attached {
    std::shared_ptr<StationState> station;
    std::uint64_t generation = 0;  // names this connection in add() and remove()
    bool created = false;          // a new station here, not one resumed
  };
  // The identity's station, resumed or new; `state` (the chain's) becomes a new station's data and
  // is merged into a resumed one's.
  virtual Attached attach_station(std::string_view identity, boost::json::object state) = 0;
  struct Added {
    bool added = false;  // false once closed; the station is detached again then
    std::shared_ptr<ServerClient> evicted;  // the identity's previous connection, for the caller to close
  };
  virtual Added add(std::shared_ptr<ServerClient> client, std::uint64_t generation) = 0;
  // The connection of `generation` has closed. Only a connection that still owns its identity
  // unregisters it and disconnects the station: an evicted socket's late close must never touch its
  // successor.
  virtual void remove(std::string_view identity, std::uint64_t generation) = 0;

  virtual std::shared_ptr<ServerClient> find(std::string_view identity) const = 0;
  virtual std::vector<std::shared_ptr<ServerClient>> all() const = 0;
  virtual std::size_t size() const = 0;
};

// This process's connections. Thread-safe; the sweep runs on the executor it is given.
class LocalRegistry final : public Registry, public std::enable_shared_from_this<LocalRegistry> {
 public:
  LocalRegistry(boost::asio::any_io_executor sweep_executor, const ServerOptions& options);

  void open() override;
  void close() override;
  bool accepting() const override;
  void stop_sweeping() override;
  std::size_t connections() const override { return connections_.load(); }
  bool refuses(std::string_view identity) const override;
  Attached attach_station(std::string_view identity, boost::json::object state) override;
  Added add(std::shared_ptr<ServerClient> client, std::uint64_t generation) override;
  void remove(std::string_view identity, std::uint64_t generation) override;
  std::shared_ptr<ServerClient> find(std::string_view identity) const override;
  std::vector<std::shared_ptr<ServerClient>> all() const override;
  std::size_t size() const override;

 private:
  struct KeyHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
  };
  struct Slot {
    std::shared_ptr<ServerClient> client;
    std::uint64_t generation = 0;
  };

  void schedule_sweep();

  const DuplicateIdentity duplicate_identity_;
  const std::chrono::milliseconds station_ttl_;
  StationStore stations_;
  std::atomic<std::size_t> connections_{0};
  boost::asio::any_io_executor sweep_executor_;
  std::optional<boost::asio::steady_timer> sweeper_;  // on sweep_executor_ only

  mutable std::mutex mutex_;  // guards what follows
  std::unordered_map<std::string, Slot, KeyHash, std::equal_to<>> slots_;
  bool accepting_ = true;
};

}  // namespace ocpp::detail

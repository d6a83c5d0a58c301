#pragma once
/// @file
/// Per-identity state that outlives a connection: a station that reconnects within the TTL gets its
/// state, and the application's data in it, back. IO-free and thread-safe; nothing runs on its own,
/// so the server calls sweep() from a timer.
#include <boost/json/object.hpp>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>

#include "ocpp/engine/clock.hpp"
#include "ocpp/rpc/visibility.hpp"

OCPP_API_BEGIN
namespace ocpp {

/// What the server keeps of a station across its connections (ServerClient::station()).
struct StationState {
  const std::string identity;  ///< the station identity
  /// The application's state. The store writes it only when it creates the station, before anyone else
  /// can see it; after that it belongs to the application, which must touch it from one thread at a
  /// time. Mind that a reconnect under the same identity can run while the old connection's handlers
  /// still do.
  boost::json::object data;
  const std::chrono::steady_clock::time_point created;  ///< when the store created it
  /// @name Connection status
  /// Written by the store only (it keeps its own copy for its decisions); atomic so that application
  /// threads may read them while another connection of the identity attaches or detaches.
  ///@{
  std::atomic<std::chrono::steady_clock::time_point> last_seen;  ///< the last attach or detach
  std::atomic<bool> connected;  ///< whether a connection is attached
  ///@}

  /// A disconnected station created at `now`.
  StationState(std::string identity, boost::json::object data, std::chrono::steady_clock::time_point now)
      : identity(std::move(identity)), data(std::move(data)), created(now), last_seen(now), connected(false) {}
};

/// The server's station states by identity, across connections. Thread-safe.
///
/// A disconnected station expires when last_seen + ttl <= now. An expired station is gone even before
/// sweep() collects it: find() does not return it and attach() starts a new one. Connected stations
/// never expire and are never evicted.
class StationStore {
 public:
  /// Disconnected stations expire after `ttl`; attach() says how `max_stations` bounds the store.
  explicit StationStore(std::chrono::milliseconds ttl = std::chrono::hours(2), std::size_t max_stations = 100000,
                        Clock clock = {});

  /// What attach() returns.
  struct Attached {
    std::shared_ptr<StationState> station;  ///< the station, new or resumed
    /// Identifies this attachment for detach(). Unique across the store and never reused, so a late
    /// detach can never hit a later connection, not even one after the station expired and was recreated.
    std::uint64_t generation = 0;
    bool created = false;  ///< a new station, not a resumed one
  };

  /// Gets or creates the identity's station and marks it connected under a new generation; the
  /// previous generation, if any, is superseded (its detach becomes a no-op). A reconnect keeps the same
  /// station object and its data; `initial` becomes the data of a new station only and is ignored when
  /// one is resumed (the application's data wins over a re-run of the auth callback).
  /// When a new station would exceed max_stations: first sweep(), then evict the disconnected stations
  /// with the oldest last_seen until it fits. Connected stations are never evicted, so with every
  /// station connected the store grows past the bound; the server's connection cap bounds that.
  Attached attach(std::string_view identity, std::optional<boost::json::object> initial = {});
  /// Marks the station disconnected, last_seen = now, if `generation` is still the current one;
  /// otherwise (a superseded connection closing late, a repeated detach) does nothing. Returns whether
  /// it took effect.
  bool detach(std::string_view identity, std::uint64_t generation);
  /// nullptr when absent or expired.
  std::shared_ptr<StationState> find(std::string_view identity) const;
  /// Removes the expired stations; returns how many.
  std::size_t sweep();
  /// Stations held, connected or not, including expired ones not yet swept.
  std::size_t size() const;

 private:
  using TimePoint = std::chrono::steady_clock::time_point;
  struct KeyHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
  };
  /// Disconnected stations by last_seen; the values point at the keys of stations_.
  using IdleIndex = std::multimap<TimePoint, const std::string*>;
  struct Entry {
    std::shared_ptr<StationState> station;
    std::uint64_t generation = 0;
    bool connected = false;
    TimePoint last_seen{};
    IdleIndex::iterator idle_position{};  ///< valid while disconnected
  };
  using Map = std::unordered_map<std::string, Entry, KeyHash, std::equal_to<>>;

  bool expired(const Entry& entry, TimePoint now) const;
  bool expired(TimePoint last_seen, TimePoint now) const;
  std::size_t sweep_locked(TimePoint now);
  void erase(Map::iterator it);

  std::chrono::steady_clock::duration ttl_;
  std::size_t max_stations_;
  Clock clock_;
  mutable std::mutex mutex_;
  Map stations_;
  IdleIndex idle_;
  std::uint64_t last_generation_ = 0;
};

}  // namespace ocpp
OCPP_API_END

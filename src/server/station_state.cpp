#include "ocpp/server/station_state.hpp"

#include <algorithm>

namespace ocpp {
namespace {
using Duration = std::chrono::steady_clock::duration;
using TimePoint = std::chrono::steady_clock::time_point;

// About 146 years; a longer TTL means the same (never, in practice) and would overflow in ticks.
constexpr Duration kMaxTtl{std::int64_t{1} << 62};

Duration clamp_ttl(std::chrono::milliseconds ttl) {
  if (ttl <= std::chrono::milliseconds::zero()) return Duration::zero();
  const auto max_ms = std::chrono::duration_cast<std::chrono::milliseconds>(kMaxTtl);
  return std::chrono::duration_cast<Duration>(std::min(ttl, max_ms));
}
}  // namespace

StationStore::StationStore(std::chrono::milliseconds ttl, std::size_t max_stations, Clock clock)
    : ttl_(clamp_ttl(ttl)), max_stations_(max_stations), clock_(std::move(clock)) {
  if (!clock_) clock_ = [] { return std::chrono::steady_clock::now(); };
}

bool StationStore::expired(TimePoint last_seen, TimePoint now) const {
  // last_seen + ttl_ <= now, saturating: a deadline past the end of the clock never comes.
  if (last_seen > TimePoint::max() - ttl_) return false;
  return last_seen + ttl_ <= now;
}

bool StationStore::expired(const Entry& entry, TimePoint now) const {
  return !entry.connected && expired(entry.last_seen, now);
}

StationStore::Attached StationStore::attach(std::string_view identity, std::optional<boost::json::object> initial) {
  std::lock_guard lock(mutex_);
  const TimePoint now = clock_();
  auto it = stations_.find(identity);
  if (it != stations_.end() && expired(it->second, now)) {
    erase(it);
    it = stations_.end();
  }
  bool created = false;
  if (it == stations_.end()) {
    if (stations_.size() >= max_stations_) {
      sweep_locked(now);
      // Oldest last_seen first; connected stations are not in the index.
      while (stations_.size() >= max_stations_ && !idle_.empty()) erase(stations_.find(*idle_.begin()->second));
    }
    auto station = std::make_shared<StationState>(std::string(identity),
                                                  initial ? std::move(*initial) : boost::json::object{}, now);
    it = stations_.emplace(std::string(identity), Entry{std::move(station)}).first;
    created = true;
  } else if (!it->second.connected) {
    idle_.erase(it->second.idle_position);
  }
  Entry& entry = it->second;
  entry.generation = ++last_generation_;
  entry.connected = true;
  entry.last_seen = now;
  entry.station->last_seen.store(now);
  entry.station->connected.store(true);
  return {entry.station, entry.generation, created};
}

bool StationStore::detach(std::string_view identity, std::uint64_t generation) {
  std::lock_guard lock(mutex_);
  auto it = stations_.find(identity);
  if (it == stations_.end()) return false;
  Entry& entry = it->second;
  if (!entry.connected || entry.generation != generation) return false;
  const TimePoint now = clock_();
  entry.connected = false;
  entry.last_seen = now;
  entry.idle_position = idle_.emplace(now, &it->first);
  entry.station->last_seen.store(now);
  entry.station->connected.store(false);
  return true;
}

std::shared_ptr<StationState> StationStore::find(std::string_view identity) const {
  std::lock_guard lock(mutex_);
  auto it = stations_.find(identity);
  if (it == stations_.end() || expired(it->second, clock_())) return nullptr;
  return it->second.station;
}

std::size_t StationStore::sweep() {
  std::lock_guard lock(mutex_);
  return sweep_locked(clock_());
}

std::size_t StationStore::size() const {
  std::lock_guard lock(mutex_);
  return stations_.size();
}

std::size_t StationStore::sweep_locked(TimePoint now) {
  // The index is ordered by last_seen, so the expired stations are a prefix of it.
  std::size_t removed = 0;
  while (!idle_.empty() && expired(idle_.begin()->first, now)) {
    erase(stations_.find(*idle_.begin()->second));
    ++removed;
  }
  return removed;
}

void StationStore::erase(Map::iterator it) {
  if (!it->second.connected) idle_.erase(it->second.idle_position);
  stations_.erase(it);
}

}  // namespace ocpp

#pragma once
// The Lua scripts of the Redis adapter: each multi-key step of the cluster is one atomic script,
// one round trip. ARGV[1] is the key prefix where a script derives keys from what it reads (the
// owner's node); single-instance Redis allows that (Redis Cluster needs hash tags: see issue 15).
#include "ocpp/redis/connection.hpp"

namespace ocpp::cluster::scripts {

// KEYS: lease, nodes. ARGV: incarnation, ttl ms, name. -> "held" | "restored" | "taken".
const redis::Script& renew();
// KEYS: owner, epoch counter, count. ARGV: prefix, name, incarnation, take over ("1" or "0").
// -> {epoch} or {epoch, old name, old incarnation, old epoch} when the old owner's lease lives;
// {0, holder's name, incarnation, epoch} when not taking over from another live holder.
const redis::Script& claim();
// KEYS: owner, count. ARGV: name, incarnation, epoch. -> 1 when deleted.
const redis::Script& release();
// KEYS: owner. ARGV: prefix, max inbox, idempotency key or "", its ttl ms, then the entry's fields.
// -> {status, name, incarnation, epoch, entry id}; status: enqueued, not_connected, node_down,
// overloaded, duplicate.
const redis::Script& enqueue();
// KEYS: inbox, reply stream. ARGV: entry id or "", idempotency key or "", then the reply's fields.
const redis::Script& finish();
// KEYS: inbox. ARGV: entry ids. -> per id "node_down" (never taken; deleted) or "unknown".
const redis::Script& settle();
// KEYS[1]: the caller's reply stream; ARGV[1]: the last reply it read, then (inbox, entry, id)
// triples of the calls it routed. The ids neither in their inbox nor answered: lost.
const redis::Script& lost();
// KEYS: inbox. ARGV: prefix, incarnation. Creates the group if needed; answers the requests that
// earlier incarnations took and never finished with unknown_outcome. -> how many.
const redis::Script& join();
// KEYS: inbox, lease. ARGV: prefix. Answers what was never taken with node_down, drops the lease.
const redis::Script& leave();
// KEYS: nodes, count. ARGV: prefix. -> {name, incarnation, pttl, inbox length, stations} per live node;
// forgets names without a lease or an inbox.
const redis::Script& nodes();
// ARGV: prefix, identities. -> per identity {name, incarnation, epoch} or {} (none, or lease gone).
const redis::Script& lookup();

}  // namespace ocpp::cluster::scripts

#pragma once
// The Lua scripts of the Redis adapter. Each but route() and answer_and_remove() touches the keys of
// one hash slot, so that they run on a Redis Cluster: a node's keys carry `{node}`, a station's
// `{identity}` (see redis_adapter.hpp). What spans both (routing a call, answering it) is two steps
// on a cluster, and one script each on one server, where a round trip saved is worth the second path.
#include "ocpp/redis/connection.hpp"

namespace ocpp::cluster::scripts {

// KEYS: lease. ARGV: incarnation, ttl ms. -> "held" | "restored" | "taken".
const redis::Script& renew();
// KEYS: owner. ARGV: the owner's name and incarnation as read ("" when none), name, incarnation,
// take over ("1" or "0"), whether the owner read was alive ("1" or "0").
// -> {-1} when the owner changed since it was read; {0} when not taking over from a live holder;
// else {epoch}. The owner's epoch only grows: a release keeps it.
const redis::Script& claim();
// KEYS: owner. ARGV: name, incarnation, epoch. -> 1 when released.
const redis::Script& release();
// KEYS: lease, inbox[, idempotency key]. ARGV: incarnation, max inbox, idempotency ttl ms, epoch,
// then the entry's fields. -> {status[, entry id]}; status: enqueued, node_down, overloaded, duplicate.
const redis::Script& enqueue();
// One server only (keys of two slots): enqueue() with the owner read in the same script.
// KEYS: owner. ARGV: prefix, max inbox, "<identity>:<message id>" or "", idempotency ttl ms, then
// the entry's fields. -> {status[, name, incarnation, epoch[, entry id]]}; status: not_connected
// or enqueue()'s.
const redis::Script& route();
// One server only: answer() then done() for one entry. KEYS: reply stream, inbox. ARGV: entry id
// or "", idempotency key or "", then the reply's fields.
const redis::Script& answer_and_remove();
// KEYS: reply stream. ARGV: the reply's fields. Appends, and keeps the stream 10 minutes.
const redis::Script& answer();
// KEYS: inbox. ARGV: (entry id, idempotency key or "") pairs. Acknowledges and deletes each entry
// and its idempotency key.
const redis::Script& done();
// KEYS: inbox. ARGV: entry ids. -> per id "node_down" (never taken; deleted) or "unknown".
const redis::Script& settle();
// KEYS: inbox. ARGV: entry ids. -> the ids still in the inbox.
const redis::Script& present();
// KEYS: inbox. ARGV: incarnation. Creates the group if needed. -> {others, mine}: others, {id,
// fields} of the entries that earlier incarnations took and never finished (to be answered, then
// done()); mine, this incarnation's, shaped as XREADGROUP answers ({{inbox, {{id, fields}...}}}).
const redis::Script& join();
// KEYS: inbox, lease. Drops the lease (no enqueue follows) -> {id, fields} of the entries never
// taken (to be answered, then done()).
const redis::Script& leave();
// KEYS: lease, inbox, count. -> {incarnation, pttl, inbox length, stations} for a live node, {} for
// one that is gone with nothing queued (to be forgotten), {""} for one gone with requests queued.
const redis::Script& node_info();

}  // namespace ocpp::cluster::scripts

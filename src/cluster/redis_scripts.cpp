#include "cluster/redis_scripts.hpp"

#include <string>

namespace ocpp::cluster::scripts {
namespace {

// The checks and the append of a routed call, its entry's fields from ARGV[5]: -> status[, entry id].
constexpr const char* queue_fn = R"lua(
local function queue(lease, inbox, ik, incarnation, max, ttl, epoch)
  if redis.call('GET', lease) ~= incarnation then return 'node_down' end
  if redis.call('XLEN', inbox) >= tonumber(max) then return 'overloaded' end
  if ik ~= '' and not redis.call('SET', ik, '1', 'NX', 'PX', ttl) then return 'duplicate' end
  return 'enqueued', redis.call('XADD', inbox, '*', 'e', epoch, 'ik', ik, unpack(ARGV, 5))
end
)lua";

// answer(): the reply's fields from ARGV[from] to the caller's stream; remove(): an answered
// request out of its inbox, with its idempotency key.
constexpr const char* answer_fns = R"lua(
local function answer(stream, from)
  redis.call('XADD', stream, '*', unpack(ARGV, from))
  redis.call('PEXPIRE', stream, 600000)
end
local function remove(inbox, id, ik)
  redis.call('XACK', inbox, 'nodes', id)
  redis.call('XDEL', inbox, id)
  if ik ~= '' then redis.call('DEL', ik) end
end
)lua";

}  // namespace

const redis::Script& renew() {
  static const redis::Script s(R"lua(
local v = redis.call('GET', KEYS[1])
if v == ARGV[1] then redis.call('PEXPIRE', KEYS[1], ARGV[2]) return 'held' end
if v then return 'taken' end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 'restored'
)lua");
  return s;
}

const redis::Script& claim() {
  static const redis::Script s(R"lua(
local o = redis.call('HMGET', KEYS[1], 'n', 'i')
if (o[1] or '') ~= ARGV[1] or (o[2] or '') ~= ARGV[2] then return {-1} end
if ARGV[5] == '0' and ARGV[6] == '1' and (ARGV[1] ~= ARGV[3] or ARGV[2] ~= ARGV[4]) then return {0} end
local epoch = redis.call('HINCRBY', KEYS[1], 'e', 1)
redis.call('HSET', KEYS[1], 'n', ARGV[3], 'i', ARGV[4])
return {epoch}
)lua");
  return s;
}

const redis::Script& release() {
  static const redis::Script s(R"lua(
local o = redis.call('HMGET', KEYS[1], 'n', 'i', 'e')
if o[1] == ARGV[1] and o[2] == ARGV[2] and o[3] == ARGV[3] then
  redis.call('HDEL', KEYS[1], 'n', 'i')
  return 1
end
return 0
)lua");
  return s;
}

const redis::Script& enqueue() {
  static const redis::Script s(std::string(queue_fn) + R"lua(
local status, entry = queue(KEYS[1], KEYS[2], KEYS[3] or '', ARGV[1], ARGV[2], ARGV[3], ARGV[4])
return {status, entry}
)lua");
  return s;
}

const redis::Script& route() {
  static const redis::Script s(std::string(queue_fn) + R"lua(
local o = redis.call('HMGET', KEYS[1], 'n', 'i', 'e')
if not o[1] then return {'not_connected'} end
local function key(kind) return ARGV[1] .. kind .. ':{' .. o[1] .. '}' end
local ik = ARGV[3] ~= '' and key('idem') .. ':' .. ARGV[3] or ''
local status, entry = queue(key('lease'), key('inbox'), ik, o[2], ARGV[2], ARGV[4], o[3])
return {status, o[1], o[2], o[3], entry}
)lua");
  return s;
}

const redis::Script& answer_and_remove() {
  static const redis::Script s(std::string(answer_fns) + R"lua(
answer(KEYS[1], 3)
if ARGV[1] ~= '' then remove(KEYS[2], ARGV[1], ARGV[2]) end
return 1
)lua");
  return s;
}

const redis::Script& answer() {
  static const redis::Script s(std::string(answer_fns) + R"lua(
answer(KEYS[1], 1)
return 1
)lua");
  return s;
}

const redis::Script& done() {
  static const redis::Script s(std::string(answer_fns) + R"lua(
for i = 1, #ARGV, 2 do remove(KEYS[1], ARGV[i], ARGV[i + 1]) end
return 1
)lua");
  return s;
}

const redis::Script& settle() {
  static const redis::Script s(R"lua(
local out = {}
for i = 1, #ARGV do
  local id = ARGV[i]
  local entry = redis.call('XRANGE', KEYS[1], id, id)
  local outcome = 'unknown'
  if #entry > 0 then
    local pending = redis.pcall('XPENDING', KEYS[1], 'nodes', id, id, 1)
    if type(pending) ~= 'table' or #pending == 0 then outcome = 'node_down' end
    redis.pcall('XACK', KEYS[1], 'nodes', id)
    redis.call('XDEL', KEYS[1], id)
    local fields = entry[1][2]
    for j = 1, #fields, 2 do
      if fields[j] == 'ik' and fields[j + 1] ~= '' then redis.call('DEL', fields[j + 1]) end
    end
  end
  out[i] = outcome
end
return out
)lua");
  return s;
}

const redis::Script& present() {
  static const redis::Script s(R"lua(
local out = {}
for i = 1, #ARGV do
  if #redis.call('XRANGE', KEYS[1], ARGV[i], ARGV[i]) > 0 then out[#out + 1] = ARGV[i] end
end
return out
)lua");
  return s;
}

const redis::Script& join() {
  static const redis::Script s(R"lua(
redis.pcall('XGROUP', 'CREATE', KEYS[1], 'nodes', '0', 'MKSTREAM')
local others, mine = {}, {}
for _, p in ipairs(redis.call('XPENDING', KEYS[1], 'nodes', '-', '+', 10000)) do
  local entry = redis.call('XRANGE', KEYS[1], p[1], p[1])
  if #entry == 0 then
    redis.call('XACK', KEYS[1], 'nodes', p[1])
  elseif p[2] == ARGV[1] then
    mine[#mine + 1] = entry[1]
  else
    others[#others + 1] = entry[1]
  end
end
return {others, {{KEYS[1], mine}}}
)lua");
  return s;
}

const redis::Script& leave() {
  static const redis::Script s(R"lua(
redis.call('DEL', KEYS[2])
local last = '0-0'
local groups = redis.pcall('XINFO', 'GROUPS', KEYS[1])
if type(groups) == 'table' then
  for _, g in ipairs(groups) do
    local f = {}
    for j = 1, #g, 2 do f[g[j]] = g[j + 1] end
    if f.name == 'nodes' then last = f['last-delivered-id'] end
  end
end
return redis.call('XRANGE', KEYS[1], '(' .. last, '+')
)lua");
  return s;
}

const redis::Script& node_info() {
  static const redis::Script s(R"lua(
local inc = redis.call('GET', KEYS[1])
local queued = redis.call('XLEN', KEYS[2])
if inc then
  return {inc, redis.call('PTTL', KEYS[1]), queued, tonumber(redis.call('GET', KEYS[3]) or '0')}
end
if queued == 0 then return {} end
return {''}
)lua");
  return s;
}

}  // namespace ocpp::cluster::scripts

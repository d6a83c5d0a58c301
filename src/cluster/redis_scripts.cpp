#include "cluster/redis_scripts.hpp"

namespace ocpp::cluster::scripts {
namespace {
// The reply fields of an answer without payload: id, outcome (its number).
constexpr const char* answer_helper = R"lua(
local function answer(prefix, fields, outcome)
  local f = {}
  for j = 1, #fields, 2 do f[fields[j]] = fields[j + 1] end
  if f.k ~= 'c' then return end
  local reply = prefix .. 'reply:' .. f.cn .. ':' .. f.ci
  redis.call('XADD', reply, '*', 'id', f.id, 'o', outcome)
  redis.call('PEXPIRE', reply, 600000)
  if f.ik and f.ik ~= '' then redis.call('DEL', f.ik) end
end
)lua";
}  // namespace

const redis::Script& renew() {
  static const redis::Script s(R"lua(
local v = redis.call('GET', KEYS[1])
if v == ARGV[1] then redis.call('PEXPIRE', KEYS[1], ARGV[2]) return 'held' end
if v then return 'taken' end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
redis.call('SADD', KEYS[2], ARGV[3])
return 'restored'
)lua");
  return s;
}

const redis::Script& claim() {
  static const redis::Script s(R"lua(
local old = redis.call('HMGET', KEYS[1], 'n', 'i', 'e')
local alive = old[1] and redis.call('GET', ARGV[1] .. 'lease:' .. old[1]) == old[2]
if ARGV[4] == '0' and alive and (old[1] ~= ARGV[2] or old[2] ~= ARGV[3]) then return {0, old[1], old[2], old[3]} end
local epoch = redis.call('INCR', KEYS[2])
redis.call('HSET', KEYS[1], 'n', ARGV[2], 'i', ARGV[3], 'e', epoch)
redis.call('HINCRBY', KEYS[3], ARGV[2], 1)
if old[1] then
  redis.call('HINCRBY', KEYS[3], old[1], -1)
  if alive then return {epoch, old[1], old[2], old[3]} end
end
return {epoch}
)lua");
  return s;
}

const redis::Script& release() {
  static const redis::Script s(R"lua(
local o = redis.call('HMGET', KEYS[1], 'n', 'i', 'e')
if o[1] == ARGV[1] and o[2] == ARGV[2] and o[3] == ARGV[3] then
  redis.call('DEL', KEYS[1])
  redis.call('HINCRBY', KEYS[2], ARGV[1], -1)
  return 1
end
return 0
)lua");
  return s;
}

const redis::Script& enqueue() {
  static const redis::Script s(R"lua(
local o = redis.call('HMGET', KEYS[1], 'n', 'i', 'e')
if not o[1] then return {'not_connected'} end
if redis.call('GET', ARGV[1] .. 'lease:' .. o[1]) ~= o[2] then return {'node_down', o[1], o[2], o[3]} end
local inbox = ARGV[1] .. 'inbox:' .. o[1]
if redis.call('XLEN', inbox) >= tonumber(ARGV[2]) then return {'overloaded', o[1], o[2], o[3]} end
if ARGV[3] ~= '' and not redis.call('SET', ARGV[3], '1', 'NX', 'PX', ARGV[4]) then
  return {'duplicate', o[1], o[2], o[3]}
end
local entry = redis.call('XADD', inbox, '*', 'e', o[3], 'ik', ARGV[3], unpack(ARGV, 5))
return {'enqueued', o[1], o[2], o[3], entry}
)lua");
  return s;
}

const redis::Script& finish() {
  static const redis::Script s(R"lua(
if ARGV[1] ~= '' then
  redis.call('XACK', KEYS[1], 'nodes', ARGV[1])
  redis.call('XDEL', KEYS[1], ARGV[1])
end
if ARGV[2] ~= '' then redis.call('DEL', ARGV[2]) end
redis.call('XADD', KEYS[2], '*', unpack(ARGV, 3))
redis.call('PEXPIRE', KEYS[2], 600000)
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

const redis::Script& lost() {
  static const redis::Script s(R"lua(
local answered = {}
for _, e in ipairs(redis.call('XRANGE', KEYS[1], '(' .. ARGV[1], '+')) do
  local f = e[2]
  for j = 1, #f, 2 do
    if f[j] == 'id' then answered[f[j + 1]] = true end
  end
end
local out = {}
for i = 2, #ARGV, 3 do
  local id = ARGV[i + 2]
  if not answered[id] and #redis.call('XRANGE', ARGV[i], ARGV[i + 1], ARGV[i + 1]) == 0 then out[#out + 1] = id end
end
return out
)lua");
  return s;
}

const redis::Script& join() {
  static const redis::Script s(std::string(answer_helper) + R"lua(
redis.pcall('XGROUP', 'CREATE', KEYS[1], 'nodes', '0', 'MKSTREAM')
local n = 0
local pending = redis.call('XPENDING', KEYS[1], 'nodes', '-', '+', 10000)
for _, p in ipairs(pending) do
  if p[2] ~= ARGV[2] then
    local entry = redis.call('XRANGE', KEYS[1], p[1], p[1])
    if #entry > 0 then answer(ARGV[1], entry[1][2], 6) end
    redis.call('XACK', KEYS[1], 'nodes', p[1])
    redis.call('XDEL', KEYS[1], p[1])
    n = n + 1
  end
end
return n
)lua");
  return s;
}

const redis::Script& leave() {
  static const redis::Script s(std::string(answer_helper) + R"lua(
local last = '0-0'
local groups = redis.pcall('XINFO', 'GROUPS', KEYS[1])
if type(groups) == 'table' then
  for _, g in ipairs(groups) do
    local f = {}
    for j = 1, #g, 2 do f[g[j]] = g[j + 1] end
    if f.name == 'nodes' then last = f['last-delivered-id'] end
  end
end
local n = 0
for _, entry in ipairs(redis.call('XRANGE', KEYS[1], '(' .. last, '+')) do
  answer(ARGV[1], entry[2], 3)
  redis.call('XDEL', KEYS[1], entry[1])
  n = n + 1
end
redis.call('DEL', KEYS[2])
return n
)lua");
  return s;
}

const redis::Script& nodes() {
  static const redis::Script s(R"lua(
local out = {}
for _, name in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local lease = ARGV[1] .. 'lease:' .. name
  local inc = redis.call('GET', lease)
  if inc then
    out[#out + 1] = {name, inc, redis.call('PTTL', lease), redis.call('XLEN', ARGV[1] .. 'inbox:' .. name),
                     tonumber(redis.call('HGET', KEYS[2], name) or '0')}
  elseif redis.call('XLEN', ARGV[1] .. 'inbox:' .. name) == 0 then
    redis.call('SREM', KEYS[1], name)  -- gone, with nothing queued for a restart to take over
  end
end
return out
)lua");
  return s;
}

const redis::Script& lookup() {
  static const redis::Script s(R"lua(
local out = {}
for i = 2, #ARGV do
  local o = redis.call('HMGET', ARGV[1] .. 'owner:' .. ARGV[i], 'n', 'i', 'e')
  if o[1] and redis.call('GET', ARGV[1] .. 'lease:' .. o[1]) == o[2] then out[i - 1] = o else out[i - 1] = {} end
end
return out
)lua");
  return s;
}

}  // namespace ocpp::cluster::scripts

-- Prelude of every quota script (prepended to each at compile time).
--
-- KEYS[1] P:quota:{b}:used      string integer; absent = usage unknown
-- KEYS[2] P:quota:{b}:inflight  hash instance id -> bytes its writes in flight reserve
-- KEYS[3] P:quota:{b}:lease     hash instance id -> lease expiry (ms since epoch)
-- KEYS[4] P:quota:{b}:held      string integer: bytes held by uploaded parts
-- KEYS[5] P:quota:{b}:upload:N:ID:KEY hash part number -> bytes (upload scripts only)
-- ARGV[1] this instance's id, ARGV[2] its lease in ms, ARGV[3] the bytes it
-- knows the store should count as its in flight on the bucket before this
-- script runs: its granted reservations, those this script (or another
-- settle or hold still on its way) ends included; further ARGV per script.
--
-- Counters are Lua numbers (doubles): exact up to 2^53 bytes.

if redis.replicate_commands then
  redis.replicate_commands()
end

local used_key, inflight_key, lease_key, held_key = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local me, lease_ms, known_inflight = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])

local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)

-- A nil reply (false) or a stored integer as a number.
local function num(value)
  return tonumber(value) or 0
end

-- A counter as Redis stores it: never negative, never in exponent notation.
local function int(n)
  if n < 0 then
    n = 0
  end
  return string.format('%.0f', n)
end

-- Stores a counter, deleting it at zero (absent means zero).
local function put(key, n)
  if n > 0 then
    redis.call('SET', key, int(n))
  else
    redis.call('DEL', key)
  end
end

-- Lets a key live at least one lease from now (instances may use
-- different leases: never shorten another's).
local function keep(key)
  local ttl = redis.call('PTTL', key)
  if ttl ~= -2 and ttl < lease_ms then
    redis.call('PEXPIRE', key, lease_ms)
  end
end

-- This instance's lease: now + lease. Once every lease of a bucket has
-- expired, its in-flight reservations are void, so both hashes expire too.
-- When its lease had lapsed (the server did not answer it for longer than
-- the lease, so its entry may be gone), its in-flight entry is raised back
-- to what it knows it holds: writes still running keep their bytes. Every
-- script calls this first, before moving bytes itself: as ARGV[3] still
-- counts the bytes a settle or hold ends, re-asserting then taking them
-- leaves exactly the others counted, and ends still on their way find
-- their own bytes counted too. Only the first script after a lapse
-- re-asserts: the count it was given may be older than a settle that ran
-- since, which later scripts must not undo.
local function renew()
  local lease = tonumber(redis.call('HGET', lease_key, me))
  redis.call('HSET', lease_key, me, int(now + lease_ms))
  keep(lease_key)
  if (not lease or lease < now) and known_inflight > num(redis.call('HGET', inflight_key, me)) then
    redis.call('HSET', inflight_key, me, int(known_inflight))
  end
  keep(inflight_key)
end

-- Lowers this instance's in-flight bytes, clamped at zero.
local function take_inflight(bytes)
  local left = num(redis.call('HGET', inflight_key, me)) - bytes
  if left > 0 then
    redis.call('HSET', inflight_key, me, int(left))
  else
    redis.call('HDEL', inflight_key, me)
  end
end

-- Moves `used` by delta (clamped at zero) unless usage is unknown.
local function move_used(delta)
  local used = redis.call('GET', used_key)
  if used then
    redis.call('SET', used_key, int(tonumber(used) + delta))
  end
end

-- Bytes in flight of instances holding a live lease; drops the
-- reservations of instances whose lease has expired.
local function live_inflight()
  local leases = redis.call('HGETALL', lease_key)
  for i = 1, #leases, 2 do
    if num(leases[i + 1]) < now then
      redis.call('HDEL', lease_key, leases[i])
      redis.call('HDEL', inflight_key, leases[i])
    end
  end
  local total = 0
  local inflight = redis.call('HGETALL', inflight_key)
  for i = 1, #inflight, 2 do
    if redis.call('HEXISTS', lease_key, inflight[i]) == 1 then
      total = total + num(inflight[i + 1])
    else
      redis.call('HDEL', inflight_key, inflight[i])
    end
  end
  return total
end

-- Script body.

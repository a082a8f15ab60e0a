-- take_token: GCRA on one key.
-- KEYS[1] P:rate:<key>: theoretical arrival time (µs since epoch, redis TIME)
-- ARGV[1] period between tokens (µs, at least 1), ARGV[2] burst (at least 1)
-- Returns {1} allowed or {0, µs until a token is available}.

if redis.replicate_commands then
  redis.replicate_commands()
end

local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000000 + tonumber(time[2])
local period, burst = tonumber(ARGV[1]), tonumber(ARGV[2])

local tat = tonumber(redis.call('GET', KEYS[1])) or now
if tat < now then
  tat = now
end
local next_tat = tat + period
local wait = next_tat - burst * period - now
if wait > 0 then
  return {0, wait}
end
-- The key expires when the bucket would be full again: a missing key is a
-- full bucket, so idle buckets take no space.
redis.call('SET', KEYS[1], string.format('%.0f', next_tat),
  'PX', string.format('%.0f', math.ceil((next_tat - now) / 1000)))
return {1}

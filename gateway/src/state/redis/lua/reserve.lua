-- reserve: ARGV[4] bytes, ARGV[5] cap ('' for none).
-- Returns {0} unknown, {1} granted, {2, used, reserved} refused.
renew()
local used = redis.call('GET', used_key)
if not used then
  return {0}
end
used = tonumber(used)
local reserved = num(redis.call('GET', held_key)) + live_inflight()
local bytes = tonumber(ARGV[4])
if ARGV[5] ~= '' and used + reserved + bytes > tonumber(ARGV[5]) then
  return {2, used, reserved}
end
redis.call('HSET', inflight_key, me, int(num(redis.call('HGET', inflight_key, me)) + bytes))
keep(inflight_key)
return {1}

-- hold_part: KEYS[5] the upload's parts, ARGV[4] part number, ARGV[5] bytes.
renew()
local bytes = tonumber(ARGV[5])
take_inflight(bytes)
local old = num(redis.call('HGET', KEYS[5], ARGV[4]))
redis.call('HSET', KEYS[5], ARGV[4], ARGV[5])
put(held_key, num(redis.call('GET', held_key)) + bytes - old)
return {1}

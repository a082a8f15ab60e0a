-- hold_part: KEYS[5] the upload's parts, ARGV[3] part number, ARGV[4] bytes.
renew()
local bytes = tonumber(ARGV[4])
take_inflight(bytes)
local old = num(redis.call('HGET', KEYS[5], ARGV[3]))
redis.call('HSET', KEYS[5], ARGV[3], ARGV[4])
put(held_key, num(redis.call('GET', held_key)) + bytes - old)
return {1}

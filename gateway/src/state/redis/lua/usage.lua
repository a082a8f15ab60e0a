-- usage: returns {0} unknown or {1, used, reserved}.
renew()
local used = redis.call('GET', used_key)
if not used then
  return {0}
end
return {1, tonumber(used), num(redis.call('GET', held_key)) + live_inflight()}

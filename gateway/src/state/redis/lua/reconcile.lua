-- reconcile: sets this instance's in-flight bytes to exactly ARGV[3].
-- After a call whose outcome this instance could not learn (a timeout),
-- its in-flight entry is set back to what it knows, so bytes of a
-- reservation it never got (or a settle that never arrived) do not stay
-- counted for as long as it keeps renewing its lease.
renew()
local bytes = known_inflight
if bytes > 0 then
  redis.call('HSET', inflight_key, me, int(bytes))
else
  redis.call('HDEL', inflight_key, me)
end
return {1}

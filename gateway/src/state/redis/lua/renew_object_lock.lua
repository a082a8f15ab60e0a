-- renew_object_lock: KEYS[1] P:quota:{b}:lock:<key>, ARGV[1] the holder's
-- token, ARGV[2] the lease in ms. Extends the lock while that token holds it.
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0

-- unlock_object: KEYS[1] P:quota:{b}:lock:<key>, ARGV[1] the holder's token.
-- Deletes the lock only while that token holds it (an expired lock taken
-- over by another holder is theirs).
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[1])
  return 1
end
return 0

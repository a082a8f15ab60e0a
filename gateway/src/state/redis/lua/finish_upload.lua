-- finish_upload: KEYS[5] the upload's parts, ARGV[4] used delta.
renew()
local parts = 0
for _, bytes in ipairs(redis.call('HVALS', KEYS[5])) do
  parts = parts + num(bytes)
end
if parts > 0 then
  put(held_key, num(redis.call('GET', held_key)) - parts)
end
redis.call('DEL', KEYS[5])
move_used(tonumber(ARGV[4]))
return {1}

-- settle: ARGV[4] reserved bytes to end, ARGV[5] used delta.
renew()
take_inflight(tonumber(ARGV[4]))
move_used(tonumber(ARGV[5]))
return {1}

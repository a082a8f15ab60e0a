-- settle: ARGV[3] reserved bytes to end, ARGV[4] used delta.
renew()
take_inflight(tonumber(ARGV[3]))
move_used(tonumber(ARGV[4]))
return {1}

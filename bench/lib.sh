# Shared by the bench scripts: `. bench/lib.sh` from the project root.

# The [server], [credentials] and [policies] tables of a gateway config
# listening on 127.0.0.1:$1 (admin on $2) with $3 worker threads, reading
# credentials.toml and policies/ beside the config file. A script adds its
# backends and buckets after it (and may add [policies] keys first).
gateway_config() {
  cat <<CONFIG
[server]
listen = "127.0.0.1:$1"
admin_listen = "127.0.0.1:$2"
threads = $3
grace_period_seconds = 1

[credentials]
file = "credentials.toml"

[policies]
dir = "policies"
CONFIG
}

# Waits up to 30 s for something to listen on 127.0.0.1:$1.
wait_port() {
  for _ in $(seq 1 300); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.1
  done
  echo "nothing listens on 127.0.0.1:$1" >&2
  return 1
}

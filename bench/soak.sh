#!/usr/bin/env bash
# Soak: SOAK_SECONDS (default 1200) of mixed signed traffic — puts,
# multipart uploads, gets, lists, deletes, denied writes — against a gateway
# serving one fs bucket and one s3 bucket (over s3s-fs), with a policy
# reload every 10 s and the upstream killed and restarted every
# SOAK_RESTART_EVERY seconds (default 120). At the end every acknowledged
# object is read back and compared by SHA-256, nothing unacknowledged may
# be visible, the gateway's RSS and open file descriptors must not have
# grown, and no request may have had a 5xx outside the restart windows.
#
#   bash bench/soak.sh            # needs bash scripts/setup first
#
# Loopback only; every loop ends by the deadline. Uses the debug build
# unless CEDARGATE_BIN names another binary.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
. bench/lib.sh
if [ -z "${CEDARGATE_BIN:-}" ]; then
  cargo build --locked -q -p cedargate
fi
gateway_bin=${CEDARGATE_BIN:-$root/target/debug/cedargate}
python=$root/.venv/bin/python
s3s_fs=$root/.tools/bin/s3s-fs
work=$root/target/soak
rm -rf "$work"
mkdir -p "$work/data/local" "$work/s3s/soak-store" "$work/policies"
s3_port=18600 admin_port=18601 upstream_port=18605
upstream_key=CGSOAKUPSTREAM000001
upstream_secret=soak-upstream-secret-00000000000000000

pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  [ -f "$work/upstream.pid" ] && kill "$(cat "$work/upstream.pid")" 2>/dev/null || true
  wait 2>/dev/null || true
}
trap cleanup EXIT

upstream_cmd="'$s3s_fs' --host 127.0.0.1 --port $upstream_port --access-key $upstream_key \
  --secret-key $upstream_secret '$work/s3s' >>'$work/s3s-fs.log' 2>&1 & echo \$! >'$work/upstream.pid'; \
  for i in \$(seq 1 100); do (exec 3<>/dev/tcp/127.0.0.1/$upstream_port) 2>/dev/null && exit 0; sleep 0.1; done; exit 1"
bash -c "$upstream_cmd"

cat >"$work/credentials.toml" <<EOF
[[credential]]
access_key = "CGSOAKFULLKEY0000001"
secret_key = "soak-full-secret-00000000000000000000000"
principal = "soaker"

[[credential]]
access_key = "CGSOAKDENIEDKEY00001"
secret_key = "soak-denied-secret-000000000000000000000"
principal = "denied"
EOF
cat >"$work/policies/soak.cedar" <<EOF
// The soak credential may do everything; the other one nothing.
@id("soaker-may-do-everything")
permit (principal == Credential::"soaker", action, resource);
EOF
{
  gateway_config "$s3_port" "$admin_port" 2
  cat <<EOF
reload_debounce_ms = 100

[state]
maintenance_interval_seconds = 2

[backends.fs]
kind = "fs"
root = "$work/data"

[backends.upstream]
kind = "s3"
endpoint = "http://127.0.0.1:$upstream_port"
access_key = "$upstream_key"
secret_key = "$upstream_secret"
connect_timeout_ms = 1000
read_timeout_ms = 10000

[buckets.local]
backend = "fs"

[buckets.remote]
backend = "upstream"
backend_bucket = "soak-store"
prefix = "tenants/soak/"
EOF
} >"$work/cedargate.toml"
RUST_LOG=warn,pingora=error "$gateway_bin" serve --config "$work/cedargate.toml" >"$work/gateway.log" 2>&1 &
gateway_pid=$!
pids+=("$gateway_pid")
wait_port "$admin_port"

CG_ENDPOINT="http://127.0.0.1:$s3_port" CG_ADMIN="http://127.0.0.1:$admin_port" \
CG_ACCESS_KEY=CGSOAKFULLKEY0000001 CG_SECRET_KEY=soak-full-secret-00000000000000000000000 \
CG_SCOPED_KEY=CGSOAKDENIEDKEY00001 CG_SCOPED_SECRET=soak-denied-secret-000000000000000000000 \
CG_POLICY_FILE="$work/policies/soak.cedar" CG_GATEWAY_PID="$gateway_pid" \
CG_UPSTREAM_CMD="$upstream_cmd" CG_UPSTREAM_PIDFILE="$work/upstream.pid" \
  "$python" bench/soak.py | tee "$work/summary.json"

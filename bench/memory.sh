#!/usr/bin/env bash
# Memory benchmark: the gateway's resident memory while many large bodies
# stream through it, and whether it drifts over many small requests.
#
#   bash bench/memory.sh                    # 64 x 256 MiB each way, 200,000 HEADs
#   MEMORY_STREAMS=16 MEMORY_MIB=64 MEMORY_SMALL=20000 bash bench/memory.sh
#
# On 127.0.0.1 only: one release gateway (fs backend, 2 threads), driven by
# cedargate-loadgen with real SigV4 requests.
#   1. MEMORY_STREAMS clients at once each GET a MEMORY_MIB MiB object,
#      then each PUT one (UNSIGNED-PAYLOAD; the fs backend stages every
#      upload in a temp file, so this needs STREAMS x MIB of free disk:
#      with less free, fewer PUTs run at once, and the report says so).
#      The peak RSS (VmHWM) is read after each phase.
#   2. MEMORY_SMALL HEADs at concurrency 32 after a warm-up of a tenth as
#      many; RSS is read after the warm-up, at the middle and at the end.
# Prints the figures and appends them to bench/results-memory.md
# ($MEMORY_RESULTS to write elsewhere). Every process it starts is killed
# on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
. bench/lib.sh
streams=${MEMORY_STREAMS:-64}
mib=${MEMORY_MIB:-256}
small=${MEMORY_SMALL:-200000}
work=${MEMORY_WORK:-$root/target/bench-memory}
results=${MEMORY_RESULTS:-$root/bench/results-memory.md}
port=18730 admin_port=18731
key=CGBENCHMEMORYKEY0001 secret=bench-memory-secret-000000000000000000000

if [ -z "${CEDARGATE_BIN:-}" ] || [ -z "${LOADGEN_BIN:-}" ]; then
  cargo build --release --locked -q -p cedargate -p cedargate-loadgen
fi
gateway_bin=${CEDARGATE_BIN:-$root/target/release/cedargate}
loadgen_bin=${LOADGEN_BIN:-$root/target/release/cedargate-loadgen}

rm -rf "$work"
mkdir -p "$work/www/bench" "$work/policies"
pid=
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$work/www"
}
trap cleanup EXIT

head -c "$((mib * 1024 * 1024))" /dev/urandom >"$work/www/bench/big"
echo small >"$work/www/bench/small"
cat >"$work/credentials.toml" <<EOF
[[credential]]
access_key = "$key"
secret_key = "$secret"
principal = "bench"
EOF
cat >"$work/policies/bench.cedar" <<EOF
@id("bench-may-do-everything")
permit (principal == Credential::"bench", action, resource);
EOF
{
  gateway_config "$port" "$admin_port" 2
  cat <<EOF

[backends.fs]
kind = "fs"
root = "$work/www"

[buckets.bench]
backend = "fs"
EOF
} >"$work/cedargate.toml"
RUST_LOG=warn "$gateway_bin" serve --config "$work/cedargate.toml" >"$work/gateway.log" 2>&1 &
pid=$!
wait_port "$port"

# kB of a /proc/PID/status field (VmRSS, VmHWM).
status_kb() { awk -v f="$1:" '$1 == f { print $2 }' "/proc/$pid/status"; }
mib_of() { awk -v kb="$1" 'BEGIN { printf "%.1f", kb / 1024 }'; }
load() {
  "$loadgen_bin" run --endpoint "http://127.0.0.1:$port" --bucket bench \
    --access-key "$key" --secret-key "$secret" --timeout 600 --duration 600 "$@"
}
summary() { python3 -c 'import json,sys; s=json.load(sys.stdin)["summary"]; print(s["count"], s["errors"], s["req_per_s"], s["mb_per_s"])'; }

idle_kb=$(status_kb VmRSS)
read -r get_count get_errors _ get_mbs < <(load --op get --key big --concurrency "$streams" --requests "$streams" | summary)
get_peak_kb=$(status_kb VmHWM)
free_mib=$(($(df -Pk "$work" | awk 'NR == 2 { print $4 }') / 1024))
put_streams=$(( free_mib * 4 / 5 / mib < streams ? free_mib * 4 / 5 / mib : streams ))
[ "$put_streams" -ge 1 ] || put_streams=1
read -r put_count put_errors _ put_mbs < <(load --op put --key upload --size "$((mib * 1024 * 1024))" \
  --concurrency "$put_streams" --requests "$put_streams" | summary)
put_peak_kb=$(status_kb VmHWM)

warm=$((small / 10))
load --op head --key small --concurrency 32 --requests "$warm" >/dev/null
warm_kb=$(status_kb VmRSS)
read -r half_count half_errors _ _ < <(load --op head --key small --concurrency 32 --requests "$((small / 2))" | summary)
half_kb=$(status_kb VmRSS)
read -r rest_count rest_errors rest_rps _ < <(load --op head --key small --concurrency 32 --requests "$((small - small / 2))" | summary)
end_kb=$(status_kb VmRSS)

report=$(cat <<EOF
## Memory ($(date -u +%Y-%m-%dT%H:%MZ), commit $(git rev-parse --short HEAD))

- gateway: release, fs backend, 2 threads; idle RSS $(mib_of "$idle_kb") MiB
- $streams concurrent GETs of $mib MiB: $get_count answered, $get_errors errors, $get_mbs MB/s; peak RSS (VmHWM) $(mib_of "$get_peak_kb") MiB
- $put_streams concurrent PUTs of $mib MiB ($free_mib MiB of disk free): $put_count answered, $put_errors errors, $put_mbs MB/s; peak RSS (VmHWM) $(mib_of "$put_peak_kb") MiB
- $small HEADs at concurrency 32 after $warm to warm up: $((half_count + rest_count)) answered, $((half_errors + rest_errors)) errors, $rest_rps req/s in the second half
- RSS after the warm-up $(mib_of "$warm_kb") MiB, at the middle $(mib_of "$half_kb") MiB, at the end $(mib_of "$end_kb") MiB (drift over the last $small requests: $(mib_of "$((end_kb - warm_kb))") MiB)
EOF
)
echo "$report"
printf '%s\n\n' "$report" >>"$results"

#!/usr/bin/env bash
# Benchmark: what the gateway costs over serving the same files directly.
#
#   bash bench/run.sh                  # ~6 minutes at the default 3 s a case
#   BENCH_SECONDS=10 bash bench/run.sh # longer cases, steadier figures
#
# On 127.0.0.1 only, with these targets:
#   nginx        (a) nginx serving a directory (WebDAV PUT), no auth
#   nginx-proxy  (b) a second nginx server block proxying to (a): a proxy hop
#   s3s-fs           the S3 upstream of (c), signed requests straight to it
#   gw-s3s       (c) cedargate with s3 backends: -> s3s-fs
#   gw-nginx    (c')   the same gateway, s3 backend -> nginx (a) (HEAD and GET
#                    only: a WebDAV server answers PUT 201/204 without an
#                    ETag and has no ListObjectsV2; the s3 backend needs both)
#   gw-fs        (d) a second cedargate, fs backend on the directory (a) serves
# Cases: HEAD, GET 1 KiB / 1 MiB / 64 MiB, PUT 1 KiB / 1 MiB / 64 MiB
# (UNSIGNED-PAYLOAD; PUT 1 MiB also with a signed SHA-256), ListObjectsV2
# of 1,000 keys (nginx: its autoindex of the same directory), a bad
# signature, a policy denial; at concurrency 1 (latency) and 32
# (throughput); then wrk on a presigned GET 1 KiB as a cross-check. Each
# run also records the CPU time all servers used (from /proc), so the table
# gives server CPU per request, which other load on the machine disturbs
# less than throughput.
#
# gw-fs fsyncs every write (the default, durable_writes); nginx does not.
# BENCH_FS_DURABLE=false measures gw-fs writing like nginx.
#
# Servers are pinned to CPU $BENCH_SERVER_CPU (default 0) and the load
# generator to $BENCH_LOADGEN_CPU (default 1) with taskset. Prints the table
# and writes it to bench/results.md ($BENCH_RESULTS to write elsewhere).
# Builds the gateway and the load generator in release unless
# CEDARGATE_BIN and LOADGEN_BIN name binaries. Every process it starts is
# killed on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
. bench/lib.sh
seconds=${BENCH_SECONDS:-3}
work=${BENCH_WORK:-$root/target/bench}
results=${BENCH_RESULTS:-$root/bench/results.md}
server_cpu=${BENCH_SERVER_CPU:-0}
loadgen_cpu=${BENCH_LOADGEN_CPU:-1}
direct_port=18710 proxy_port=18711 s3s_port=18712
gw_port=18713 gw_admin_port=18714 gw_s3_port=18715 gw_s3_admin_port=18716
up_key=CGBENCHUPSTREAM00001 up_secret=bench-upstream-secret-0000000000000000
bench_key=CGBENCHFULLKEY000001 bench_secret=bench-full-secret-0000000000000000000000
denied_key=CGBENCHDENIEDKEY0001 denied_secret=bench-denied-secret-00000000000000000000

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
install_debian() {
  as_root apt-get update -qq >/dev/null || true
  as_root apt-get install -y -qq "$@" >/dev/null
}
command -v nginx >/dev/null || install_debian nginx-light || install_debian nginx
command -v wrk >/dev/null || install_debian wrk || echo "wrk not installed: no cross-check" >&2

pin_server=() pin_loadgen=()
if command -v taskset >/dev/null && [ "$(nproc)" -ge 2 ]; then
  pin_server=(taskset -c "$server_cpu") pin_loadgen=(taskset -c "$loadgen_cpu")
  pinning="servers on CPU $server_cpu, load generator on CPU $loadgen_cpu (taskset)"
else
  pinning="none (taskset missing or a single CPU)"
fi

if [ -z "${CEDARGATE_BIN:-}" ] || [ -z "${LOADGEN_BIN:-}" ]; then
  cargo build --release --locked -q -p cedargate -p cedargate-loadgen
fi
gateway_bin=${CEDARGATE_BIN:-$root/target/release/cedargate}
loadgen_bin=${LOADGEN_BIN:-$root/target/release/cedargate-loadgen}
s3s_fs=${S3S_FS_BIN:-$root/.tools/bin/s3s-fs}

rm -rf "$work"
mkdir -p "$work/www/bench" "$work/s3s/bench" "$work/policies" "$work/nginx-tmp"

pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT

cat >"$work/nginx.conf" <<EOF
daemon off;
user $(id -un);
worker_processes 1;
pid $work/nginx.pid;
error_log $work/nginx-error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  sendfile on;
  tcp_nodelay on;
  keepalive_requests 1000000;
  keepalive_timeout 60s;
  client_max_body_size 0;
  client_body_temp_path $work/nginx-tmp/body;
  proxy_temp_path $work/nginx-tmp/proxy;
  default_type application/octet-stream;
  upstream direct {
    server 127.0.0.1:$direct_port;
    keepalive 64;
  }
  # (a): the files, WebDAV PUT, autoindex for the listing case.
  server {
    listen 127.0.0.1:$direct_port;
    root $work/www;
    autoindex on;
    dav_methods PUT;
    create_full_put_path on;
  }
  # (b): one proxy hop to (a), streaming request bodies, responses
  # buffered in memory only.
  server {
    listen 127.0.0.1:$proxy_port;
    location / {
      proxy_pass http://direct;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_request_buffering off;
      proxy_buffer_size 64k;
      proxy_buffers 8 64k;
      proxy_max_temp_file_size 0;
    }
  }
}
EOF
"${pin_server[@]}" nginx -p "$work" -c "$work/nginx.conf" &
pids+=($!)

have_s3s=false
if [ -x "$s3s_fs" ]; then
  "${pin_server[@]}" "$s3s_fs" --host 127.0.0.1 --port "$s3s_port" --access-key "$up_key" \
    --secret-key "$up_secret" "$work/s3s" >"$work/s3s-fs.log" 2>&1 &
  pids+=($!)
  have_s3s=true
else
  echo "no s3s-fs at $s3s_fs (bash scripts/setup builds it): the s3 backend cases are left out" >&2
fi

cat >"$work/credentials.toml" <<EOF
[[credential]]
access_key = "$bench_key"
secret_key = "$bench_secret"
principal = "bench"

[[credential]]
access_key = "$denied_key"
secret_key = "$denied_secret"
principal = "outsider"
EOF
cat >"$work/policies/bench.cedar" <<EOF
// The bench credential may do everything; the outsider nothing (default deny).
@id("bench-may-do-everything")
permit (principal == Credential::"bench", action, resource);
EOF
# Two gateways: (d) over the fs backend, (c) over the s3 backends.
threads=${BENCH_GATEWAY_THREADS:-1}
{
  gateway_config "$gw_port" "$gw_admin_port" "$threads"
  cat <<EOF

[backends.fs]
kind = "fs"
root = "$work/www"
durable_writes = ${BENCH_FS_DURABLE:-true}

[buckets.bench]
backend = "fs"
EOF
} >"$work/gateway-fs.toml"
{
  gateway_config "$gw_s3_port" "$gw_s3_admin_port" "$threads"
  cat <<EOF

[backends.s3s]
kind = "s3"
endpoint = "http://127.0.0.1:$s3s_port"
access_key = "$up_key"
secret_key = "$up_secret"

[backends.nginx]
kind = "s3"
endpoint = "http://127.0.0.1:$direct_port"
access_key = "$up_key"
secret_key = "$up_secret"

[buckets.bench-s3]
backend = "s3s"
backend_bucket = "bench"

[buckets.bench-ngx]
backend = "nginx"
backend_bucket = "bench"
EOF
} >"$work/gateway-s3.toml"
for name in fs s3; do
  RUST_LOG=${BENCH_RUST_LOG:-warn} "${pin_server[@]}" "$gateway_bin" serve \
    --config "$work/gateway-$name.toml" >"$work/gateway-$name.log" 2>&1 &
  pids+=($!)
done

wait_port "$direct_port"
wait_port "$proxy_port"
wait_port "$gw_port"
wait_port "$gw_s3_port"
$have_s3s && wait_port "$s3s_port"

# CPU seconds used so far by every server process (nginx's workers included).
ticks_per_second=$(getconf CLK_TCK)
server_cpu() {
  local total=0 pid line fields
  for pid in "${pids[@]}" $(pgrep -P "${pids[0]}" || true); do
    read -r line <"/proc/$pid/stat" 2>/dev/null || continue
    read -ra fields <<<"${line##*) }"
    total=$((total + fields[11] + fields[12]))
  done
  echo "$total"
}

# endpoint, bucket and credentials (or --unsigned) of each target
target_args() {
  case $1 in
    nginx) echo "--endpoint http://127.0.0.1:$direct_port --bucket bench --unsigned" ;;
    nginx-proxy) echo "--endpoint http://127.0.0.1:$proxy_port --bucket bench --unsigned" ;;
    s3s-fs) echo "--endpoint http://127.0.0.1:$s3s_port --bucket bench --access-key $up_key --secret-key $up_secret" ;;
    gw-s3s) echo "--endpoint http://127.0.0.1:$gw_s3_port --bucket bench-s3 --access-key $bench_key --secret-key $bench_secret" ;;
    gw-nginx) echo "--endpoint http://127.0.0.1:$gw_s3_port --bucket bench-ngx --access-key $bench_key --secret-key $bench_secret" ;;
    gw-fs) echo "--endpoint http://127.0.0.1:$gw_port --bucket bench --access-key $bench_key --secret-key $bench_secret" ;;
  esac
}
loadgen() { "${pin_loadgen[@]}" "$loadgen_bin" run "$@"; }

# The objects: written through the gateway's fs bucket (so nginx, the
# proxy, gw-nginx and gw-fs read the very same files) and its s3 bucket.
seed_targets=(gw-fs)
$have_s3s && seed_targets+=(gw-s3s)
for target in "${seed_targets[@]}"; do
  read -ra args <<<"$(target_args "$target")"
  for object in obj-1k:1024 obj-1m:1048576 obj-64m:67108864; do
    loadgen "${args[@]}" --op put --key "${object%%:*}" --size "${object##*:}" \
      --requests 1 --duration 60 --label seed >/dev/null
  done
  loadgen "${args[@]}" --op put --key list/ --keys 1000 --size 100 --requests 1000 \
    --concurrency 8 --duration 60 --label seed >/dev/null
done

jsonl=$work/results.jsonl
: >"$jsonl"
# case label, loadgen arguments, then the targets it runs on
run_case() {
  local label=$1 case_args=$2
  shift 2
  for target in "$@"; do
    [ "$target" = s3s-fs ] || [ "$target" = gw-s3s ] && ! $have_s3s && continue
    read -ra args <<<"$(target_args "$target")"
    read -ra extra <<<"$case_args"
    case $target in nginx | nginx-proxy) [[ $case_args == *"--op put"* ]] && extra+=(--expect 2xx) ;; esac
    for concurrency in 1 32; do
      local line before after
      before=$(server_cpu)
      line=$(loadgen "${args[@]}" "${extra[@]}" --concurrency "$concurrency" \
        --duration "$seconds" --label "$label") || line='{"summary":{"count":0,"errors":1}}'
      after=$(server_cpu)
      printf '{"case":"%s","target":"%s","server_cpu_s":%s,%s\n' "$label" "$target" \
        "$(awk -v t=$((after - before)) -v hz="$ticks_per_second" 'BEGIN { print t / hz }')" \
        "${line#\{}" >>"$jsonl"
      printf '  %-14s %-12s c=%-3s %s\n' "$label" "$target" "$concurrency" \
        "$(python3 -c 'import json,sys; s=json.loads(sys.argv[1])["summary"]; print("%9s req/s  p50 %s ms  p99 %s ms  errors %s" % (s.get("req_per_s"), s.get("p50_ms"), s.get("p99_ms"), s.get("errors")))' "$line")" >&2
    done
  done
}
readers=(nginx nginx-proxy s3s-fs gw-s3s gw-nginx gw-fs)
writers=(nginx nginx-proxy s3s-fs gw-s3s gw-fs)
listers=(nginx nginx-proxy s3s-fs gw-s3s gw-fs)
echo "cases of ${seconds}s, $pinning" >&2
run_case head "--op head --key obj-1k" "${readers[@]}"
run_case get-1k "--op get --key obj-1k" "${readers[@]}"
run_case get-1m "--op get --key obj-1m" "${readers[@]}"
run_case get-64m "--op get --key obj-64m" "${readers[@]}"
for size in 1k:1024 1m:1048576 64m:67108864; do
  # each target writes its own 32 keys, so no target overwrites another's files
  for target in "${writers[@]}"; do
    run_case "put-${size%%:*}" "--op put --size ${size##*:} --key put-$target-${size%%:*}/ --keys 32" "$target"
  done
done
# the same 1 MiB PUT with its SHA-256 signed, which the receiver verifies
for target in s3s-fs gw-s3s gw-fs; do
  run_case put-1m-signed "--op put --size 1048576 --signed-payload --key put-$target-1m-signed/ --keys 32" "$target"
done
run_case list-1000 "--op list --prefix list/" "${listers[@]}"
run_case bad-signature "--op bad-signature --key obj-1k" s3s-fs gw-fs
run_case denied "--op denied --key obj-1k --access-key $denied_key --secret-key $denied_secret" gw-fs

# wrk on presigned GETs of the 1 KiB object (nginx needs no signature).
wrk_out=$work/wrk.txt
: >"$wrk_out"
if command -v wrk >/dev/null; then
  read -ra args <<<"$(target_args gw-fs)"
  presigned=$("$loadgen_bin" presign "${args[@]}" --key obj-1k)
  for pair in "gw-fs presigned|$presigned" "nginx|http://127.0.0.1:$direct_port/bench/obj-1k" \
    "nginx-proxy|http://127.0.0.1:$proxy_port/bench/obj-1k"; do
    echo "== ${pair%%|*}" >>"$wrk_out"
    "${pin_loadgen[@]}" wrk -t1 -c32 -d"${seconds}s" --latency "${pair#*|}" >>"$wrk_out" 2>&1 || true
  done
fi

{
  echo "- date: $(date -u +%Y-%m-%dT%H:%MZ); commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
  echo "- machine: $(nproc) CPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')), load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "- pinning: $pinning; each gateway: ${BENCH_GATEWAY_THREADS:-1} thread(s), RUST_LOG=${BENCH_RUST_LOG:-warn}; gw-fs durable_writes=${BENCH_FS_DURABLE:-true}; nginx: 1 worker, access log off"
  echo "- $(nginx -v 2>&1); $("$gateway_bin" --version 2>/dev/null || echo cedargate)"
  echo "- each case ${seconds}s per concurrency; loadgen: one keep-alive HTTP/1.1 connection per concurrent request, PUT bodies UNSIGNED-PAYLOAD"
} >"$work/environment.md"
python3 bench/report.py "$jsonl" "$work/environment.md" "$wrk_out" | tee "$results"

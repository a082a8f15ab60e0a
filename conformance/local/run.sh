#!/usr/bin/env bash
# Starts a local cedargate deployment that provides every fixture of
# conformance/fixtures/local.toml and runs the conformance suite against
# it, in each error profile given (default: documented and aws).
#
#   bash conformance/local/run.sh [documented] [aws]
#
# The deployment, on 127.0.0.1 only: the gateway (:18500, admin :18501)
# with the fs backend; s3 backends over s3s-fs (:18505), one of them with
# a secret the upstream refuses; an unreachable upstream (:18507) and one
# answering garbage (:18506); redis-server (:18504) holding quota usage and
# rate limits; a test OIDC issuer (:18508) for STS. A second gateway
# (:18502, admin :18503) with anonymous access switched off proves the
# one case the first cannot. Every run must pass with zero skips.
#
# Needs `bash scripts/setup` (the venv, redis-server, s3s-fs). Builds and
# uses target/debug/{cedargate,cedargate-conformance}; CEDARGATE_BIN and
# CONFORMANCE_BIN name other binaries instead. Work files (configs, logs,
# outputs) go to target/conformance-local.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
profiles=("$@")
[ ${#profiles[@]} -gt 0 ] || profiles=(documented aws)

if [ -z "${CEDARGATE_BIN:-}" ] || [ -z "${CONFORMANCE_BIN:-}" ]; then
  cargo build --locked -q -p cedargate -p cedargate-conformance
fi
gateway_bin=${CEDARGATE_BIN:-$root/target/debug/cedargate}
suite_bin=${CONFORMANCE_BIN:-$root/target/debug/cedargate-conformance}
python=$root/.venv/bin/python
s3s_fs=$root/.tools/bin/s3s-fs
for tool in "$python" "$s3s_fs"; do
  [ -x "$tool" ] || { echo "run.sh: $tool is missing: run bash scripts/setup" >&2; exit 2; }
done
command -v redis-server >/dev/null || { echo "run.sh: redis-server is missing: run bash scripts/setup" >&2; exit 2; }

work=$root/target/conformance-local
pids=()
stop_all() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  pids=()
}
trap stop_all EXIT

# Waits up to 30 s for 127.0.0.1:$1 to accept connections.
wait_port() {
  for _ in $(seq 1 300); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 0; fi
    sleep 0.1
  done
  echo "run.sh: nothing listens on 127.0.0.1:$1 after 30 s" >&2
  return 1
}

upstream_key=CGLOCALUPSTREAM00001
upstream_secret=local-upstream-secret-0000000000000000

# Writes the gateway config $1/cedargate.toml: listeners $2/$3, profile $4,
# anonymous access $5, and the full fixture set when $6 is "full".
write_config() {
  local dir=$1 s3=$2 admin=$3 profile=$4 anonymous=$5 set=$6
  mkdir -p "$dir/data/alpha" "$dir/data/beta" "$dir/policies"
  cp conformance/local/credentials.toml "$dir/"
  cp conformance/local/policies/*.cedar policies/examples/quota/quota.cedar "$dir/policies/"
  cat >"$dir/cedargate.toml" <<EOF
[server]
listen = "127.0.0.1:$s3"
admin_listen = "127.0.0.1:$admin"
threads = 2
grace_period_seconds = 1

[s3]
error_profile = "$profile"

[credentials]
file = "credentials.toml"

[policies]
dir = "policies"

[anonymous]
enabled = $anonymous

[backends.local]
kind = "fs"
root = "$dir/data"

[buckets.alpha]
backend = "local"

[buckets.beta]
backend = "local"
EOF
  [ "$set" = full ] || return 0
  mkdir -p "$dir/data/capped" "$dir/data/public" "$dir/data/public-slow" "$dir/s3s/cg-backend-store"
  printf 'hello\n' >"$dir/data/public/hello.txt"
  printf 'hello\n' >"$dir/data/public-slow/hello.txt"
  cat >>"$dir/cedargate.toml" <<EOF

[buckets.capped]
backend = "local"
quota = { hard = 4096 }

[buckets.public]
backend = "local"

[buckets.public-slow]
backend = "local"
anonymous_rate_limit = { rate = 0.2, burst = 2 }

[rate_limits.credentials]
CGLOCALRATELIMITED01 = { rate = 0.5, burst = 2 }

[state]
store = "redis"
redis_url = "redis://127.0.0.1:18504/"
maintenance_interval_seconds = 1

[backends.upstream]
kind = "s3"
endpoint = "http://127.0.0.1:18505"
access_key = "$upstream_key"
secret_key = "$upstream_secret"

[buckets.remote]
backend = "upstream"
backend_bucket = "cg-backend-store"
prefix = "tenants/remote/"

[backends.refusing]
kind = "s3"
endpoint = "http://127.0.0.1:18505"
access_key = "$upstream_key"
secret_key = "not-the-upstream-secret-000000000000"

[buckets.refused]
backend = "refusing"
backend_bucket = "cg-backend-store"

[backends.nothing]
kind = "s3"
endpoint = "http://127.0.0.1:18507"
access_key = "$upstream_key"
secret_key = "$upstream_secret"
connect_timeout_ms = 500

[buckets.down]
backend = "nothing"
backend_bucket = "cg-backend-store"

[backends.garbage]
kind = "s3"
endpoint = "http://127.0.0.1:18506"
access_key = "$upstream_key"
secret_key = "$upstream_secret"
read_timeout_ms = 2000

[buckets.garbage]
backend = "garbage"
backend_bucket = "cg-backend-store"

[sts]
account_id = "123456789012"
seal_keys = [{ id = "local", key = "bG9jYWwtY29uZm9ybWFuY2Utc2VhbC1rZXktMzJieXQ=" }]

[sts.issuers.test]
issuer = "http://127.0.0.1:18508"

[sts.issuers.test-keys-down]
issuer = "http://127.0.0.1:18508"
jwks_url = "http://127.0.0.1:18509/jwks"

[[sts.roles]]
arn = "arn:aws:iam::123456789012:role/ci"
issuers = ["test"]
audiences = ["sts.amazonaws.com"]
subjects = ["repo:myorg/*"]

[[sts.roles]]
arn = "arn:aws:iam::123456789012:role/production-only"
issuers = ["test"]
audiences = ["sts.amazonaws.com"]
subjects = ["repo:myorg/*"]
claims = { environment = "production" }

[[sts.roles]]
arn = "arn:aws:iam::123456789012:role/issuer-down"
issuers = ["test-keys-down"]
audiences = ["sts.amazonaws.com"]
subjects = ["*"]
EOF
}

# Starts the gateway of config dir $1, admin port $2.
start_gateway() {
  "$gateway_bin" serve --config "$1/cedargate.toml" >"$1/gateway.log" 2>&1 &
  pids+=($!)
  wait_port "$2"
}

passed_total=0
# Runs the suite; fails unless it exits 0 with zero skips.
run_suite() {
  local out=$1; shift
  local status=0
  "$suite_bin" "$@" | tee "$out" || status=$?
  if [ "$status" -ne 0 ]; then
    echo "run.sh: the suite exited $status (logs in $work)" >&2
    return 1
  fi
  if ! tail -n 1 "$out" | grep -Eq '^[1-9][0-9]* passed, 0 failed, 0 skipped$'; then
    echo "run.sh: expected every case to pass with none skipped" >&2
    return 1
  fi
  passed_total=$((passed_total + $(tail -n 1 "$out" | cut -d' ' -f1)))
}

# The suite must catch a deployment that answers another profile: the aws
# deployment judged by the documented table fails exactly where the two
# status columns differ, and passes where they agree.
check_crossed_profile() {
  local out=$work/crossed.txt status=0
  "$suite_bin" --endpoint http://127.0.0.1:18500 --fixtures "$fixtures" --table documented \
    --exclude '^anonymous\.disabled_globally$' >"$out" || status=$?
  if [ "$status" -ne 1 ]; then
    echo "run.sh: the documented table against the aws profile exited $status, expected 1" >&2
    return 1
  fi
  local case verdict
  for expected in auth.unknown_access_key=FAIL auth.bad_signature=FAIL sts.expired_session=FAIL \
      limits.rate_limited_credential=FAIL backend.garbage_response=FAIL limits.quota_exceeded=FAIL \
      objects.no_such_key=PASS scope.forbidden_bucket=PASS sts.unknown_role=PASS; do
    case=${expected%=*}
    verdict=$(awk -v c="$case" '$2 == c { print $NF; exit }' "$out")
    if [ "$verdict" != "${expected#*=}" ]; then
      echo "run.sh: $case was ${verdict:-absent} with the crossed table, expected ${expected#*=}" >&2
      return 1
    fi
  done
  echo "crossed profiles: $(tail -n 1 "$out") (failures expected where the profiles differ)"
}

for profile in "${profiles[@]}"; do
  echo "== conformance: $profile profile =="
  rm -rf "$work"
  mkdir -p "$work"
  redis-server --port 18504 --bind 127.0.0.1 --save '' --appendonly no >"$work/redis.log" 2>&1 &
  pids+=($!)
  "$python" conformance/local/garbage_upstream.py 18506 >"$work/garbage.log" 2>&1 &
  pids+=($!)
  "$python" gateway/tests/clients/oidc_issuer.py 18508 >"$work/issuer.log" 2>&1 &
  pids+=($!)
  write_config "$work/main" 18500 18501 "$profile" true full
  "$s3s_fs" --host 127.0.0.1 --port 18505 --access-key "$upstream_key" \
    --secret-key "$upstream_secret" "$work/main/s3s" >"$work/s3s-fs.log" 2>&1 &
  pids+=($!)
  for port in 18504 18505 18506 18508; do wait_port "$port"; done
  start_gateway "$work/main" 18501
  write_config "$work/anonymous-off" 18502 18503 "$profile" false minimal
  start_gateway "$work/anonymous-off" 18503

  # The fixtures, plus a session that expired a minute ago.
  fixtures=$work/fixtures.toml
  cp conformance/fixtures/local.toml "$fixtures"
  "$gateway_bin" sts mint-session --config "$work/main/cedargate.toml" \
    --role-arn arn:aws:iam::123456789012:role/ci --subject repo:myorg/app \
    --claim repository=myorg/app --seconds -60 >"$work/expired.json"
  "$python" - "$work/expired.json" >>"$fixtures" <<'EOF'
import json, sys
session = json.load(open(sys.argv[1]))
print("\n[sts.expired_session]")
print(f'access_key = "{session["AccessKeyId"]}"')
print(f'secret_key = "{session["SecretAccessKey"]}"')
print(f'session_token = "{session["SessionToken"]}"')
EOF

  run_suite "$work/main.txt" --endpoint http://127.0.0.1:18500 --fixtures "$fixtures" \
    --table "$profile" --exclude '^anonymous\.disabled_globally$'
  run_suite "$work/anonymous-off.txt" --endpoint http://127.0.0.1:18502 \
    --fixtures conformance/fixtures/local-anonymous-off.toml --table "$profile" \
    --filter '^anonymous\.disabled_globally$'
  [ "$profile" != aws ] || check_crossed_profile
  stop_all
done
echo "conformance: $passed_total passed, 0 failed, 0 skipped"

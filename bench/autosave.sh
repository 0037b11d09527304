#!/usr/bin/env bash
# Autosave throughput of `marksmith serve` beside the bare route of
# ../shared/baseline/autosave, in one run, one after the other, on the same
# Postgres, with the same targets and the same wrk script; after each
# Marksmith run, a check that every save it acknowledged as stored is in
# the database.
#
#   bench/autosave.sh [STUDENTS] [SECONDS]       (defaults: 256 students, 20 s)
#   MARKSMITH_BIN=FILE bench/autosave.sh ...      runs that build of marksmith instead
#   PROFILE=DIR bench/autosave.sh ...             also writes a CPU profile of
#                                                 the server's c64 run to DIR/cpu-c64.pprof
#
# Needs wrk (apt-get install wrk), python3, psql and Postgres on
# 127.0.0.1:5432 with trust auth. Not run in CI: it takes minutes.
set -euo pipefail
cd "$(dirname "$0")/.."
students=${1:-256}
seconds=${2:-20}
baseline=$(cd ../shared/baseline && pwd)
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
pg="psql -h 127.0.0.1 -U postgres -qAt"

$pg -c 'DROP DATABASE IF EXISTS bench_ms' -c 'DROP DATABASE IF EXISTS bench_bare' \
    -c 'CREATE DATABASE bench_ms' -c 'CREATE DATABASE bench_bare' >/dev/null
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$work/jwt-secret"
if [ -n "${MARKSMITH_BIN:-}" ]; then
  cp "$MARKSMITH_BIN" "$work/marksmith" # an earlier build, for before-and-after figures
elif [ -n "${PROFILE:-}" ]; then
  mkdir -p "$PROFILE"
  go build -tags pprof -o "$work/marksmith" ./cmd/marksmith
else
  go build -o "$work/marksmith" ./cmd/marksmith
fi
(cd "$baseline/autosave" && go build -o "$work/bare-autosave" .)

MARKSMITH_DATABASE_URL='postgres://postgres@127.0.0.1:5432/bench_ms?sslmode=disable' MARKSMITH_AUTO_MIGRATE=true \
  MARKSMITH_JWT_SECRET_FILE="$work/jwt-secret" MARKSMITH_ACCESS_TTL=2h MARKSMITH_LOG_LEVEL=warn \
  MARKSMITH_ADDR=127.0.0.1:18081 "$work/marksmith" serve > "$work/ms.out" 2> "$work/ms.err" &
ms=$!
for _ in $(seq 1 60); do grep -q 'serving on' "$work/ms.out" && break; sleep 0.5; done
onetime=$(awk '/password:/ {print $2}' "$work/ms.out")
# The first admin's password is one-time: choose one, as every admin must.
token=$(curl -sf -H 'Content-Type: application/json' -d "{\"email\":\"admin@localhost\",\"password\":\"$onetime\"}" \
  http://127.0.0.1:18081/api/v1/auth/login | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
pw="bench admin password"
# (An earlier build without the route keeps its first password.)
curl -sf -o /dev/null -X PUT -H 'Content-Type: application/json' -H "Authorization: Bearer $token" \
  -d "{\"current_password\":\"$onetime\",\"new_password\":\"bench admin password\"}" http://127.0.0.1:18081/api/v1/users/me/password \
  || pw=$onetime
"$baseline/targets.py" http://127.0.0.1:18081 "$pw" "$students" "$work/targets.txt" >&2

run() { # name url connections
  TARGETS="$work/targets.txt" ACKED="$work/acked-$1-$3" wrk -t2 -c"$3" -d"${seconds}s" --latency -s bench/autosave-check.lua "$2" \
    | tail -n 1 | sed "s/^/$1 c$3 /"
}
# check: every save acknowledged as stored is in the database (the stored
# seq of each part is at least the highest seq acknowledged for it).
check() { # file
  $pg -d bench_ms -c 'CREATE TEMP TABLE acked (attempt_id bigint, question int, part text, seq bigint)' \
    -c "\\copy acked FROM '$1' WITH (FORMAT text, DELIMITER ' ')" \
    -c "SELECT format('  %s parts acknowledged as stored, %s missing or older in the database',
          count(*), count(*) FILTER (WHERE a.seq IS NULL OR a.seq < k.seq))
        FROM acked k LEFT JOIN answers a USING (attempt_id, question, part)"
}
echo "# $(date -u +%FT%TZ) $students students, ${seconds}s per run, $(nproc) cores"
# Each run starts from no answers, so that its saves are new ones (wrk's
# seq numbers start from the clock, which a later run may not pass).
for c in 64 256; do
  $pg -d bench_ms -c 'DELETE FROM answers'
  if [ -n "${PROFILE:-}" ] && [ "$c" = 64 ]; then
    (sleep 2; curl -sf -o "$PROFILE/cpu-c64.pprof" "http://127.0.0.1:6060/debug/pprof/profile?seconds=$((seconds - 4))") &
  fi
  run marksmith http://127.0.0.1:18081 $c
  check "$work/acked-marksmith-$c"
done
kill $ms; wait $ms 2>/dev/null || true

"$work/bare-autosave" -jwt-secret-file "$work/jwt-secret" \
  -database-url 'postgres://postgres@127.0.0.1:5432/bench_bare?sslmode=disable' 2> "$work/bare.err" &
bare=$!
sleep 1
for c in 64 256; do
  $pg -d bench_bare -c 'TRUNCATE bare_answers'
  run bare http://127.0.0.1:18090 $c
done
kill $bare; wait $bare 2>/dev/null || true

#!/usr/bin/env bash
# A class starting its exam at the same instant: STUDENTS students (default
# 3000) start their attempt at the full DASC7606 paper at once against
# `marksmith serve` on Postgres, each on a connection of its own; startload
# reports how long they waited for their papers and every error.
#
#   bench/start.sh [STUDENTS]
#   MARKSMITH_BIN=FILE bench/start.sh  runs that build of marksmith instead
#   PROFILE=DIR bench/start.sh ...   also writes a CPU profile of the server
#                                    while the students start to DIR/cpu-start.pprof
#
# Needs psql and Postgres on 127.0.0.1:5432 with trust auth. Not in CI.
set -euo pipefail
cd "$(dirname "$0")/.."
students=${1:-3000}
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
pg="psql -h 127.0.0.1 -U postgres -qAt"
$pg -c 'DROP DATABASE IF EXISTS bench_start' -c 'CREATE DATABASE bench_start' >/dev/null
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$work/jwt-secret"
if [ -n "${MARKSMITH_BIN:-}" ]; then
  cp "$MARKSMITH_BIN" "$work/marksmith" # an earlier build, for before-and-after figures
elif [ -n "${PROFILE:-}" ]; then
  mkdir -p "$PROFILE"
  go build -tags pprof -o "$work/marksmith" ./cmd/marksmith
else
  go build -o "$work/marksmith" ./cmd/marksmith
fi
go build -o "$work/startload" ./cmd/startload
dsn='postgres://postgres@127.0.0.1:5432/bench_start?sslmode=disable'
MARKSMITH_DATABASE_URL=$dsn MARKSMITH_AUTO_MIGRATE=true MARKSMITH_JWT_SECRET_FILE="$work/jwt-secret" \
  MARKSMITH_LOG_LEVEL=warn MARKSMITH_ADDR=127.0.0.1:18082 "$work/marksmith" serve > "$work/ms.out" 2> "$work/ms.err" &
for _ in $(seq 1 60); do grep -q 'serving on' "$work/ms.out" && break; sleep 0.5; done
onetime=$(awk '/password:/ {print $2}' "$work/ms.out")
token=$(curl -sf -H 'Content-Type: application/json' -d "{\"email\":\"admin@localhost\",\"password\":\"$onetime\"}" \
  http://127.0.0.1:18082/api/v1/auth/login | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
pw="bench admin password"
# (An earlier build without the route keeps its first password.)
curl -sf -o /dev/null -X PUT -H 'Content-Type: application/json' -H "Authorization: Bearer $token" \
  -d "{\"current_password\":\"$onetime\",\"new_password\":\"bench admin password\"}" http://127.0.0.1:18082/api/v1/users/me/password \
  || pw=$onetime
echo "$pw" > "$work/admin-pw"
echo "# $(date -u +%FT%TZ) $students students, $(nproc) cores"
if [ -n "${PROFILE:-}" ]; then
  # Profile from the moment the exam is published, while the class starts.
  (for _ in $(seq 1 600); do grep -q 'published to' "$work/load.out" 2>/dev/null && break; sleep 0.1; done
   curl -sf -o "$PROFILE/cpu-start.pprof" "http://127.0.0.1:6060/debug/pprof/profile?seconds=${PROFILE_SECONDS:-5}") &
  profiler=$!
fi
"$work/startload" -url http://127.0.0.1:18082 -database-url "$dsn" -jwt-secret-file "$work/jwt-secret" \
  -admin-password-file "$work/admin-pw" -students "$students" | tee "$work/load.out"
if [ -n "${profiler:-}" ]; then wait "$profiler"; fi

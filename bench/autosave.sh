#!/usr/bin/env bash
# Autosave throughput of `marksmith serve` beside the bare route of
# ../shared/baseline/autosave, in one run, on the same Postgres, with the
# same targets and the same wrk script. Both servers are warmed up alike,
# then stay up while the runs alternate (Marksmith, bare, Marksmith, bare,
# ...) so that a change in the machine's load falls on both; the summary
# gives medians, and the median of the per-round ratios. After each Marksmith run, a check that every
# save it acknowledged as stored is in the database.
#
#   bench/autosave.sh [STUDENTS] [SECONDS] [ROUNDS]  (defaults: 256 students, 20 s, 3 rounds)
#   MARKSMITH_BIN=FILE bench/autosave.sh ...      runs that build of marksmith instead
#   MARKSMITH_ENV="GOGC=400" bench/autosave.sh    environment for the marksmith server only
#   SEPARATE=1 bench/autosave.sh ...              each wrk thread saves for its own half of the
#                                                 students (by default both walk all of them, as
#                                                 the baseline's autosave.lua does, and a thread
#                                                 that falls behind the other sends saves older
#                                                 than what is stored: answered "not stored")
#   PROFILE=DIR bench/autosave.sh ...             also writes a CPU profile of
#                                                 the server's first c64 run to DIR/cpu-c64.pprof
#
# Besides throughput and latency, each line gives the share of saves
# answered "stored" (the rest were older than the part's stored answer:
# wrk's two threads save the same parts), and the server's CPU time per
# save (user and system, from /proc) and Postgres's (all its processes).
#
# Needs wrk (apt-get install wrk), python3, psql and Postgres on
# 127.0.0.1:5432 with trust auth. Not run in CI: it takes minutes.
set -euo pipefail
cd "$(dirname "$0")/.."
students=${1:-256}
seconds=${2:-20}
rounds=${3:-3}
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

# shellcheck disable=SC2086 # MARKSMITH_ENV is a list of NAME=VALUE words
env ${MARKSMITH_ENV:-} MARKSMITH_DATABASE_URL='postgres://postgres@127.0.0.1:5432/bench_ms?sslmode=disable' MARKSMITH_AUTO_MIGRATE=true \
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

"$work/bare-autosave" -jwt-secret-file "$work/jwt-secret" \
  -database-url 'postgres://postgres@127.0.0.1:5432/bench_bare?sslmode=disable' 2> "$work/bare.err" &
bare=$!
sleep 1

ticks=$(getconf CLK_TCK)
cpu_of() { # pid...: their user+system CPU ticks
  local t=0 p
  for p in "$@"; do t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null || echo 0))); done
  echo "$t"
}
run() { # name url connections pid
  local s0 p0 s1 p1 line saves
  s0=$(cpu_of "$4"); p0=$(cpu_of $(pgrep -x postgres))
  line=$(STRIDE=$([ -n "${SEPARATE:-}" ] && echo 2 || echo 1) TARGETS="$work/targets.txt" ACKED="$work/acked-$1-$3" wrk -t2 -c"$3" -d"${seconds}s" --latency \
    -s bench/autosave-check.lua "$2" | tail -n 1)
  s1=$(cpu_of "$4"); p1=$(cpu_of $(pgrep -x postgres))
  saves=$(sed -E 's/.*saves\/s=([0-9]+).*/\1/' <<< "$line")
  awk -v n="$1" -v c="$3" -v l="$line" -v sv="$saves" -v d="$seconds" -v t="$ticks" \
      -v sc=$((s1 - s0)) -v pc=$((p1 - p0)) \
    'BEGIN { printf "%s c%s %s server=%.0fus/save postgres=%.0fus/save\n", n, c, l, sc / t / (sv * d) * 1e6, pc / t / (sv * d) * 1e6 }' \
    | tee -a "$work/results"
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
# Warm both servers up alike (connections, prepared statements, caches)
# with 3 s of saves each, not counted.
for u in http://127.0.0.1:18081 http://127.0.0.1:18090; do
  TARGETS="$work/targets.txt" wrk -t2 -c64 -d3s -s bench/autosave-check.lua "$u" > /dev/null
done
echo "# $(date -u +%FT%TZ) $students students, ${seconds}s per run, $rounds rounds, $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
# Each run starts from no answers, so that its saves are new ones (wrk's
# seq numbers start from the clock, which a later run may not pass).
for c in 64 256; do
  for r in $(seq 1 "$rounds"); do
    $pg -d bench_ms -c 'DELETE FROM answers'
    if [ -n "${PROFILE:-}" ] && [ "$c" = 64 ] && [ "$r" = 1 ]; then
      (sleep 2; curl -sf -o "$PROFILE/cpu-c64.pprof" "http://127.0.0.1:6060/debug/pprof/profile?seconds=$((seconds - 4))") &
    fi
    run marksmith http://127.0.0.1:18081 $c $ms
    check "$work/acked-marksmith-$c"
    $pg -d bench_bare -c 'TRUNCATE bare_answers'
    run bare http://127.0.0.1:18090 $c $bare
  done
done
echo "# medians over $rounds rounds (ratio: the median of each round's Marksmith/bare saves/s)"
python3 - "$work/results" <<'EOF'
import re, statistics, sys
runs = {}
for line in open(sys.argv[1]):
    name, conns = line.split()[:2]
    f = dict(re.findall(r'(\w+)=([0-9.]+)', line.replace('saves/s=', 'saves=')))
    runs.setdefault((name, conns), []).append({k: float(v) for k, v in f.items()})
for conns in ("c64", "c256"):
    ms, bare = runs.get(("marksmith", conns), []), runs.get(("bare", conns), [])
    if not ms or not bare:
        continue
    med = lambda rs, k: statistics.median(r[k] for r in rs)
    ratio = statistics.median(m["saves"] / b["saves"] for m, b in zip(ms, bare))
    print(f"{conns}: marksmith {med(ms, 'saves'):.0f} saves/s ({med(ms, 'stored'):.0f}% stored) p99 {med(ms, 'p99'):.1f} ms "
          f"server {med(ms, 'server'):.0f} us/save postgres {med(ms, 'postgres'):.0f} us/save | "
          f"bare {med(bare, 'saves'):.0f} saves/s ({med(bare, 'stored'):.0f}% stored) p99 {med(bare, 'p99'):.1f} ms "
          f"server {med(bare, 'server'):.0f} us/save postgres {med(bare, 'postgres'):.0f} us/save | ratio {ratio:.0%}")
EOF

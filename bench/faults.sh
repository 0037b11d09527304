#!/usr/bin/env bash
# bench/faults.sh: autosave under faults. Starts a private PostgreSQL
# cluster of its own (a temporary directory, its own port), builds and
# starts `marksmith serve` on it, and runs cmd/loadgen's autosave load.
# During the load it
#
#   1. kills the server (SIGKILL) and starts it again;
#   2. stops PostgreSQL immediately (pg_ctl stop -m immediate: no
#      checkpoint, crash recovery on start) and starts it again;
#   3. kills the postmaster (SIGKILL) and, once its backends have gone,
#      starts it again;
#
# then checks that every save the load generator saw acknowledged (200,
# stored true) is in the answers table: the stored seq of its part is at
# least the acknowledged one. It prints the figures and exits 1 if any
# acknowledged save is lost.
#
# Not run in CI: it takes about three minutes. Run it from the repository
# root as root (PostgreSQL runs as the postgres user) or as a user who can
# run initdb:
#
#   ./bench/faults.sh
#
# Settings (environment): FAULTS_STUDENTS (50), FAULTS_DURATION (seconds of
# load, 120), FAULTS_PG_PORT (55432), FAULTS_HTTP_PORT (18090), PGBIN
# (/usr/lib/postgresql/15/bin), FAULTS_KEEP=1 keeps the directory with the
# logs.
set -euo pipefail

students=${FAULTS_STUDENTS:-50}
duration=${FAULTS_DURATION:-120}
pgport=${FAULTS_PG_PORT:-55432}
httpport=${FAULTS_HTTP_PORT:-18090}
pgbin=${PGBIN:-/usr/lib/postgresql/15/bin}

work=$(mktemp -d /tmp/marksmith-faults.XXXXXX)
chmod 755 "$work"
pgdata=$work/pg
mkdir -p "$pgdata" "$work/sock" "$work/pglog"

# as_pg runs a command as the owner of the cluster: postgres when we are root.
if [ "$(id -u)" = 0 ]; then
	chown postgres: "$pgdata" "$work/sock" "$work/pglog"
	as_pg() { runuser -u postgres -- "$@"; }
else
	as_pg() { "$@"; }
fi

log() { printf '%s faults: %s\n' "$(date +%T)" "$*"; }

server_pid=
loadgen_pid=
cleanup() {
	[ -n "$loadgen_pid" ] && kill "$loadgen_pid" 2>/dev/null || true
	[ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null || true
	as_pg "$pgbin/pg_ctl" -D "$pgdata" -m fast stop >/dev/null 2>&1 || true
	if [ "${FAULTS_KEEP:-0}" = 1 ]; then
		echo "faults: logs kept in $work"
	else
		rm -rf "$work"
	fi
}
trap cleanup EXIT

pg_start() {
	as_pg "$pgbin/pg_ctl" -D "$pgdata" -l "$work/pglog/pg.log" -w -t 60 \
		-o "-p $pgport -c listen_addresses=127.0.0.1 -c unix_socket_directories=$work/sock" start >/dev/null
}

psql_q() { psql -X -q -At -h 127.0.0.1 -p "$pgport" -U postgres -d marksmith "$@"; }

# start_server starts marksmith serve in the background and waits until
# it is ready.
start_server() {
	MARKSMITH_DATABASE_URL="postgres://postgres@127.0.0.1:$pgport/marksmith?sslmode=disable" \
		MARKSMITH_AUTO_MIGRATE=true MARKSMITH_JWT_SECRET_FILE="$work/jwt-secret" \
		MARKSMITH_ADDR="127.0.0.1:$httpport" MARKSMITH_LOG_LEVEL=warn \
		"$work/marksmith" serve >>"$work/serve.out" 2>>"$work/serve.err" &
	server_pid=$!
	for _ in $(seq 1 300); do
		if curl -fsS -o /dev/null "http://127.0.0.1:$httpport/readyz" 2>/dev/null; then
			return 0
		fi
		if ! kill -0 "$server_pid" 2>/dev/null; then
			echo "faults: the server exited; see $work/serve.err" >&2
			FAULTS_KEEP=1
			exit 1
		fi
		sleep 0.1
	done
	echo "faults: the server did not become ready" >&2
	FAULTS_KEEP=1
	exit 1
}

log "building into $work"
go build -o "$work/marksmith" ./cmd/marksmith
go build -o "$work/loadgen" ./cmd/loadgen

log "a private PostgreSQL cluster on port $pgport"
as_pg "$pgbin/initdb" -D "$pgdata" -A trust -U postgres >"$work/initdb.log"
pg_start
as_pg "$pgbin/createdb" -h 127.0.0.1 -p "$pgport" -U postgres marksmith
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$work/jwt-secret"

start_server
awk '/password:/ {print $2}' "$work/serve.out" >"$work/admin.pw"
log "server ready on port $httpport"

"$work/loadgen" -url "http://127.0.0.1:$httpport" -admin-password-file "$work/admin.pw" \
	-students "$students" -duration "${duration}s" -prefix faults -timeout 10s \
	-acked "$work/acked.txt" -error-pause 100ms >"$work/loadgen.out" 2>&1 &
loadgen_pid=$!
until grep -q 'saving for up to' "$work/loadgen.out"; do
	if ! kill -0 "$loadgen_pid" 2>/dev/null; then
		cat "$work/loadgen.out" >&2
		FAULTS_KEEP=1
		exit 1
	fi
	sleep 0.2
done
start=$SECONDS
log "load running for ${duration}s with $students students"

# at waits until s seconds into the load.
at() { while [ $((SECONDS - start)) -lt "$1" ]; do sleep 0.2; done; }

at $((duration / 8))
log "fault 1: SIGKILL the server (pid $server_pid)"
kill -9 "$server_pid"
wait "$server_pid" 2>/dev/null || true
sleep 3
start_server
log "server back"

at $((duration * 3 / 8))
log "fault 2: pg_ctl stop -m immediate"
as_pg "$pgbin/pg_ctl" -D "$pgdata" -m immediate stop >/dev/null
sleep 5
pg_start
log "PostgreSQL back (crash recovery done)"

at $((duration * 5 / 8))
postmaster=$(head -1 "$pgdata/postmaster.pid")
log "fault 3: SIGKILL the postmaster (pid $postmaster)"
kill -9 "$postmaster"
# The backends notice their postmaster is gone and exit; until they
# have, the shared memory is theirs and a new postmaster refuses it.
sleep 5
for _ in $(seq 1 60); do
	if pg_start 2>/dev/null; then
		break
	fi
	sleep 1
done
log "PostgreSQL back after the postmaster was killed"

wait "$loadgen_pid" || true
loadgen_pid=
log "load finished"
cat "$work/loadgen.out"

acked=$(wc -l <"$work/acked.txt")
read -r stored_parts lost <<<"$(psql_q -F ' ' <<SQL
CREATE TEMP TABLE acked (attempt_id bigint, question int, part text, seq bigint);
\copy acked FROM '$work/acked.txt' WITH (FORMAT text, DELIMITER ' ')
SELECT (SELECT count(*) FROM answers),
       (SELECT count(*) FROM acked k LEFT JOIN answers a USING (attempt_id, question, part)
         WHERE a.seq IS NULL OR a.seq < k.seq);
SQL
)"
server_errors=$(grep -c 'level=ERROR' "$work/serve.err" || true)
echo
echo "acknowledged saves   $acked"
echo "answers stored       $stored_parts (one row per attempt and part)"
echo "acknowledged, lost   $lost"
echo "server error lines   $server_errors (see serve.err)"
if [ "$lost" != 0 ]; then
	FAULTS_KEEP=1
	echo "faults: $lost acknowledged saves are not stored" >&2
	exit 1
fi

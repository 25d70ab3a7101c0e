# Helpers for the 4xxx (watch) cases; a case sources this after run-case set
# up $T, $CCAICTL and the step vocabulary:
#
#   . "$SRC/tests/integration/watch.sh"
#
#   repo_init DIR                a git repository on branch main
#   repo_commit DIR MSG [ARGS]   commit everything (ARGS go to git commit,
#                                e.g. -S to sign); sets $REV to its id
#   watch_start ARGS...          `ccaictl watch ARGS` in the background,
#                                stdout in $T/watch.out, stderr (the log)
#                                in $T/watch.err; sets $WATCH_PID
#   watch_wait ERE [SECONDS]     until a line of the log matches (default
#                                20 s); fails if the watch exits first
#   watch_wait_n ERE N [SECONDS] until N lines of the log match
#   watch_wait_out ERE [SECONDS] the same, on the watch's stdout
#   watch_listen                 the status URL from the start line
#   watch_stop [SIG]             send SIG (TERM), wait; sets $WATCH_RC
#   metrics                      GET $(watch_listen)/metrics to stdout
#
# The watch is always stopped when the case ends, and so is any gpg-agent
# started for $GNUPGHOME.
export GIT_AUTHOR_NAME=Watcher GIT_AUTHOR_EMAIL=watcher@example.com
export GIT_COMMITTER_NAME=Watcher GIT_COMMITTER_EMAIL=watcher@example.com
export GIT_CONFIG_NOSYSTEM=1
WATCH_PID=
WATCH_RC=

watch_cleanup() {
	set +e
	if [ -n "$WATCH_PID" ]; then
		kill -KILL "$WATCH_PID" 2>/dev/null
		wait "$WATCH_PID" 2>/dev/null
	fi
	if [ -n "${GNUPGHOME:-}" ] && [ -d "$GNUPGHOME" ]; then
		gpgconf --kill all >/dev/null 2>&1
	fi
	cleanup
}
trap watch_cleanup EXIT

repo_init() {
	git init -q -b main "$1" || fail "git init $1"
}

repo_commit() {
	local dir=$1 msg=$2
	shift 2
	git -C "$dir" add -A || fail "git add"
	git -C "$dir" commit -q --allow-empty -m "$msg" "$@" || fail "git commit $msg"
	REV=$(git -C "$dir" rev-parse HEAD)
}

watch_start() {
	STEP=$((STEP + 1))
	"$CCAICTL" watch "$@" >"$T/watch.out" 2>"$T/watch.err" </dev/null &
	WATCH_PID=$!
}

watch_dump() {
	echo "--- watch stdout ---" >&2
	tail -c 20000 "$T/watch.out" >&2
	echo "--- watch stderr ---" >&2
	tail -c 20000 "$T/watch.err" >&2
}

watch_wait_n() {
	local ere=$1 n=$2 secs=${3:-20} i=0 got
	while :; do
		got=$(grep -cE -- "$ere" "$T/watch.err" 2>/dev/null || true)
		[ "${got:-0}" -ge "$n" ] && return 0
		if [ -n "$WATCH_PID" ] && ! kill -0 "$WATCH_PID" 2>/dev/null; then
			watch_dump
			fail "the watch exited while waiting for: $ere"
		fi
		i=$((i + 1))
		if [ $i -gt $((secs * 20)) ]; then
			watch_dump
			fail "no log line matched within ${secs}s: $ere"
		fi
		sleep 0.05
	done
}

watch_wait_out() {
	local ere=$1 secs=${2:-20} i=0
	until grep -qE -- "$ere" "$T/watch.out" 2>/dev/null; do
		i=$((i + 1))
		if [ $i -gt $((secs * 20)) ] || ! kill -0 "$WATCH_PID" 2>/dev/null; then
			watch_dump
			fail "nothing on stdout matched: $ere"
		fi
		sleep 0.05
	done
}

watch_wait() {
	watch_wait_n "$1" 1 "${2:-20}"
}

watch_listen() {
	grep -oE '("listen":"|status on )http://[^" ]+' "$T/watch.err" | head -1 |
		grep -oE 'http://[^" ]+'
}

watch_stop() {
	kill -"${1:-TERM}" "$WATCH_PID" 2>/dev/null || true
	WATCH_RC=0
	wait "$WATCH_PID" || WATCH_RC=$?
	WATCH_PID=
}

metrics() {
	curl -sf "$(watch_listen)/metrics" || fail "GET /metrics failed"
}

#!/bin/sh
# b_faults.sh - postern and dma (Debian's package) under SMTP faults, side by side: the same
# messages, the same fault server (tests/integration/faultsmtpd.py on 127.0.0.1:25, --fast: it
# keeps one "Message-ID<TAB>rcpts" line per accepted message in ids), the same faults. Not a test:
# it measures and reports, nothing fails because a number is high.
#
#   a) drops: 10% of DATA transfers cut after 354 (--drop-data 0.1, seed = the round). Queue passes
#      run back to back until the queue is empty (at most FAULT_PASSES passes and FAULT_A_CAP s):
#      the passes, the wall time and what had arrived after each pass. Target for postern: all
#      delivered within 3 passes. dma runs this in FAULT_DMA_A_ROUNDS rounds (default 1): a dropped
#      connection makes its delivery process spin on read() == 0 until its 5-minute alarm, so it
#      needs about 5 minutes per pass; the report shows where it stood at the cap.
#   b) stall: the 100th final dot is never answered (--stall-dot 100). One pass: the time until the
#      other FAULT_MSGS-1 messages have arrived (lines in ids, polled every 20 ms; at most
#      FAULT_STALL_CAP s). Target for postern: under 2 s.
#   c) kills: a clean drain is timed first; then FAULT_KILLS SIGKILLs of the runner's process group,
#      each a random 5..M ms after the runner's (re)start (M = 2 x the clean drain time of what is
#      still queued / (kills to come + 1), at least 10; or FAULT_KILL_MS; bash's RANDOM seeded with
#      the round), then clean passes until the queue is empty: lost messages (their Message-ID
#      never arrived; must be 0) and extra deliveries (lines in ids minus distinct Message-IDs;
#      target: at most 10).
#
# A pass: postern `runq -C conf` (sendmail -q; every message, due or not) until it exits; dma `dma -D -q`
# (it forks one delivery process per message; a temporary failure makes that process sleep and
# retry by itself, waking every 30 s to look for a flush that a later `dma -q` signals), so a dma
# pass ends when every message queued at its start has had a connection and every dma process left
# is asleep in its back-off (or gone). Each runner starts in its own process group (setsid), which
# is what the kills and the clean-up signal. Rounds (FAULT_ROUNDS, default 3) alternate the peers;
# the report gives every round and the medians.
#
# Usage (as root): sudo sh bench/b_faults.sh          (about 4 minutes with the defaults)
#   FAULT_MSGS=2000 FAULT_ROUNDS=3 FAULT_PASSES=10 FAULT_A_CAP=60 FAULT_DMA_A_ROUNDS=1
#   FAULT_STALL_CAP=20 FAULT_KILLS=30 FAULT_KILL_MS=M FAULT_PASS_CAP=120 (s: a pass still running
#   then is killed) FAULT_PARTS="a b c" (some of them) FAULT_DEBUG=1 (dma's pass progress)
#   FAULT_VERBOSE=1 (c: postern's runners with -v; counts messages its log says status=sent twice)
#   POSTERN=PATH ('' skips postern) POSTERN_REV=TEXT KEEP=1 (as bench/run.sh)
#   quick: sudo FAULT_MSGS=300 FAULT_ROUNDS=1 FAULT_KILLS=10 sh bench/b_faults.sh   (about 1.5 min)
# The world is bench/world.sh's (private namespaces, dma unpacked from its .deb, /etc/dma/dma.conf
# with SMARTHOST 127.0.0.1 PORT 25); the report goes to bench/results/FAULTS-<date>.md.

[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -u

HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/.." && pwd)
CACHE=$HERE/.cache
PY=/usr/bin/python3
FSD=$REPO/tests/integration/faultsmtpd.py
N=${FAULT_MSGS:-2000}
ROUNDS=${FAULT_ROUNDS:-3}

die() { echo "faults: $*" >&2; exit 1; }
say() { echo "faults: $*" >&2; }
report() { printf '%s\n' "$@" >>"$WORK/report.md"; }
now_ns() { date +%s%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b - a) / 1e9 }'; }

# outer - checks, the peers' packages, the work dir, the namespace, the report.
outer() {
	local work rc out c
	[ "$(id -u)" -eq 0 ] || die "must run as root (private network and mount namespaces, overlays)"
	for c in unshare ip setsid apt-get dpkg-deb openssl "$PY"; do
		command -v "$c" >/dev/null || die "missing $c"
	done
	. "$HERE/world.sh"
	peers_fetch "$CACHE" || die "could not fetch the peers' packages"
	POSTERN=${POSTERN-$REPO/build/postern}
	case $POSTERN in /*|'') ;; *) POSTERN=$PWD/$POSTERN ;; esac
	export POSTERN
	work=$(mktemp -d /var/tmp/postern-faults.XXXXXX) || die "mktemp failed"
	chmod 0755 "$work"
	unshare --net --mount --uts --pid --fork --mount-proc --propagation private \
		bash "$HERE/b_faults.sh" --inside "$work"
	rc=$?
	if [ -s "$work/report.md" ]; then
		mkdir -p "$HERE/results"
		out=$HERE/results/FAULTS-$(date +%Y-%m-%d).md
		cp "$work/report.md" "$out"
		echo
		cat "$out"
		echo
		echo "faults: report written to ${out#"$REPO"/}"
	fi
	if [ "${KEEP:-0}" = 1 ]; then echo "faults: work dir kept: $work"; else rm -rf "$work"; fi
	return $rc
}

# ------------------------------------------------------------------------------- the fault server
# fsd_start ARGS... - a fresh faultsmtpd on 127.0.0.1:25 (the peers' smarthost), --fast.
fsd_start() {
	fsd_stop
	rm -rf "$WORK/fsd"
	"$PY" "$FSD" --listen 127.0.0.1:25 --maildir "$WORK/fsd" --fast --log "$WORK/fsd.log" "$@" \
		>>"$WORK/fsd.out" 2>&1 &
	FSD_PID=$!
	local i
	for i in $(seq 1 100); do
		[ -e "$WORK/fsd/.listening" ] && return 0
		sleep 0.05
	done
	die "faultsmtpd did not start: $(tail -n 2 "$WORK/fsd.out")"
}
fsd_stop() {
	[ -n "${FSD_PID:-}" ] || return 0
	kill "$FSD_PID" 2>/dev/null
	wait "$FSD_PID" 2>/dev/null
	FSD_PID=
}
ids_lines() { if [ -f "$WORK/fsd/ids" ]; then wc -l <"$WORK/fsd/ids"; else echo 0; fi; }
conns() { if [ -f "$WORK/fsd/connections" ]; then wc -l <"$WORK/fsd/connections"; else echo 0; fi; }
# delivered - how many of the FAULT_MSGS queued messages arrived at least once
delivered() { cut -f1 "$WORK/fsd/ids" 2>/dev/null | grep '^<fault\.[0-9]*@' | sort -u | wc -l; }
# extra - deliveries beyond the first of each message
extra() { echo $(($(ids_lines) - $(cut -f1 "$WORK/fsd/ids" 2>/dev/null | sort -u | wc -l))); }
# twice - how many messages arrived more than once
twice() { cut -f1 "$WORK/fsd/ids" 2>/dev/null | sort | uniq -d | wc -l; }

# ----------------------------------------------------------------------------------- the queues
# fill PEER - queue N messages of 2 KB, Message-ID <fault.I@postern.example>, then keep a copy of
# the spool: every scenario starts from that copy (restore), not from N new submissions.
fill() {
	local p=$1 cmd i body spool t0
	spools_reset
	cmd=$(submit_cmd "$p")
	body=$(grep -v '^Message-ID:' "$WORK/msg-2k.eml")
	t0=$(now_ns)
	for i in $(seq 1 "$N"); do
		# shellcheck disable=SC2086
		$cmd >/dev/null 2>>"$WORK/fill-$p.err" <<<"Message-ID: <fault.$i@postern.example>"$'\n'"$body" ||
			{ say "$p: queueing failed at message $i: $(tail -n 1 "$WORK/fill-$p.err")"; return 1; }
	done
	[ "$(queue_count "$p")" -eq "$N" ] || { say "$p: queued $(queue_count "$p") of $N"; return 1; }
	say "$p: $N messages queued in $(secs "$t0" "$(now_ns)") s"
	spool=$(spool_dir "$p")
	rm -rf "$WORK/snap-$p"
	cp -a "$spool" "$WORK/snap-$p"
}
spool_dir() { case $1 in postern) echo "$WORK/postern-spool" ;; dma) echo "$WORK/dma-spool" ;; esac; }
restore() {
	local s
	s=$(spool_dir "$1")
	rm -rf "$s"
	cp -a "$WORK/snap-$1" "$s"
	sync
}

# --------------------------------------------------------------------------------- the runners
# runner_start PEER - one pass in the background, in its own process group (RUNNER = its pid = pgid).
runner_start() {
	local cmd
	cmd=$(runq_cmd "$1")
	[ "$1" = postern ] && [ -n "${RUNNER_V:-}" ] && cmd="$cmd -v"
	# shellcheck disable=SC2086
	setsid $cmd </dev/null >>"${RUNNER_V:-$WORK/runner-$1.out}" 2>&1 &
	RUNNER=$!
	GROUPS_STARTED="${GROUPS_STARTED:-} $RUNNER"
}
# runner_kill [SIGNAL] - signal the runner's whole process group, reap the runner.
runner_kill() {
	kill -"${1:-KILL}" -- "-$RUNNER" 2>/dev/null
	wait "$RUNNER" 2>/dev/null
}
# groups_kill - every process group this script started (dma's sleeping delivery processes).
groups_kill() {
	local g
	for g in ${GROUPS_STARTED:-}; do kill -KILL -- "-$g" 2>/dev/null; done
	GROUPS_STARTED=
	sleep 0.2
	g=$(dma_busy all)
	[ "$g" -eq 0 ] || say "warning: $g dma processes outlived their process group's SIGKILL"
}

# dma_busy [all] - dma processes that are not asleep in their back-off (all: every one), not zombies.
dma_busy() {
	local d c st w n=0
	for d in /proc/[0-9]*; do
		{ read -r c <"$d/comm"; } 2>/dev/null || continue
		[ "$c" = dma ] || continue
		{ read -r st <"$d/stat"; } 2>/dev/null || continue
		st=${st##*) }
		[ "${st%% *}" = Z ] && continue
		{ read -r w <"$d/wchan"; } 2>/dev/null
		[ "$w" = hrtimer_nanosleep ] && [ "${1:-}" != all ] || n=$((n + 1))
	done
	echo "$n"
}

dma_busy_list() {
	local d c w
	for d in /proc/[0-9]*; do
		{ read -r c <"$d/comm"; } 2>/dev/null || continue
		[ "$c" = dma ] || continue
		{ read -r w <"$d/wchan"; } 2>/dev/null
		printf '%s:%s:%s ' "${d#/proc/}" "$w" "$(cut -d' ' -f3 "$d/stat")"
	done | head -c 600
}

# pass PEER [SECONDS] - one queue pass to its end (see the top); 1 if it was stopped after SECONDS
# (default FAULT_PASS_CAP): its process group is killed then.
pass() {
	local p=$1 cap=${2:-${FAULT_PASS_CAP:-120}} queued c0 end
	end=$((SECONDS + cap))
	if [ "$p" = postern ]; then
		runner_start postern
		while kill -0 "$RUNNER" 2>/dev/null; do
			[ "$SECONDS" -ge "$end" ] && { runner_kill; return 1; }
			sleep 0.02
		done
		wait "$RUNNER"
		return 0
	fi
	queued=$(queue_count dma)
	c0=$(conns)
	runner_start dma
	while :; do
		sleep 0.2
		if [ "$SECONDS" -ge "$end" ]; then
			PASS_BUSY=$(dma_busy)
			runner_kill
			return 1
		fi
		[ "${FAULT_DEBUG:-0}" = 1 ] && say "pass: $(($(conns) - c0)) connections of $queued, busy: $(dma_busy_list)"
		[ $(($(conns) - c0)) -ge "$queued" ] || continue
		[ "$(dma_busy)" -eq 0 ] || continue
		sleep 0.3
		[ "$(dma_busy)" -eq 0 ] && break
	done
	wait "$RUNNER" 2>/dev/null	# reaped if it exited; a sleeping dma -q stays in its group
	return 0
}

# drain PEER MAXPASSES [SECONDS] - passes back to back until the queue is empty, at most MAXPASSES
# and SECONDS in all; sets PASSES, AFTER (what had arrived after each pass), EMPTY (1 if the queue
# emptied) and BUSY (dma: delivery processes still working when a pass was stopped).
drain() {
	local p=$1 max=$2 end=$((SECONDS + ${3:-100000})) left
	PASSES=0 AFTER='' EMPTY=0 BUSY=0
	while [ "$PASSES" -lt "$max" ]; do
		left=$((end - SECONDS))
		[ "$left" -gt 0 ] || return 0
		[ "$left" -gt "${FAULT_PASS_CAP:-120}" ] && left=${FAULT_PASS_CAP:-120}
		PASSES=$((PASSES + 1))
		if ! pass "$p" "$left"; then
			AFTER="$AFTER $(delivered) (stopped)"
			BUSY=$PASS_BUSY
			[ "$(queue_count "$p")" -eq 0 ] && EMPTY=1
			return 0
		fi
		AFTER="$AFTER $(delivered)"
		[ "$(queue_count "$p")" -eq 0 ] && { EMPTY=1; return 0; }
	done
}

# median NUMBERS... - the median ("-" if none).
median() {
	[ $# -gt 0 ] || { echo -; return; }
	printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
add() { eval "$1=\"\${$1:-} $2\""; }
get() { eval "echo \${$1:-}"; }

# ---------------------------------------------------------------------------------- the scenarios
drops_one() {
	local p=$1 k=$2 cap=${FAULT_A_CAP:-60} t0 wall left note=''
	restore "$p"
	fsd_start --drop-data 0.1 --seed "$k"
	t0=$(now_ns)
	drain "$p" "${FAULT_PASSES:-10}" "$cap"
	wall=$(secs "$t0" "$(now_ns)")
	groups_kill
	left=$(queue_count "$p")
	[ "$EMPTY" = 1 ] || note="not empty after $PASSES passes / $wall s"
	[ "$BUSY" -gt 0 ] && note="$note; $BUSY dma processes still busy when stopped"
	report "| $p | $k | $([ "$EMPTY" = 1 ] && echo "$PASSES" || echo "> $PASSES") | $wall |$AFTER | $left | $(extra) | ${note#; } |"
	[ "$EMPTY" = 1 ] && { add "A_PASSES_$p" "$PASSES"; add "A_WALL_$p" "$wall"; }
	say "drops: $p round $k: $PASSES passes, $wall s, delivered after each:$AFTER, left $left"
	fsd_stop
}

stall_one() {
	local p=$1 k=$2 cap=${FAULT_STALL_CAP:-20} t0 t1 got one='' want=$((N - 1)) alive
	restore "$p"
	fsd_start --stall-dot 100
	t0=$(now_ns)
	runner_start "$p"
	while got=$(ids_lines) && [ "$got" -lt "$want" ]; do
		[ -z "$one" ] && [ $(($(now_ns) - t0)) -ge 1000000000 ] && one=$got
		[ $(($(now_ns) - t0)) -ge $((cap * 1000000000)) ] && break
		sleep 0.02
	done
	t1=$(now_ns)
	[ -n "$one" ] || one=$got
	alive=no
	kill -0 "$RUNNER" 2>/dev/null && alive=yes
	runner_kill
	groups_kill
	if [ "$got" -ge "$want" ]; then
		report "| $p | $k | $(secs "$t0" "$t1") | $one | $got | $alive |"
		add "B_TIME_$p" "$(secs "$t0" "$t1")"
	else
		report "| $p | $k | > $cap (gave up) | $one | $got | $alive |"
	fi
	say "stall: $p round $k: $got of $want after $(secs "$t0" "$t1") s (after 1 s: $one)"
	fsd_stop
}

kills_one() {
	local p=$1 k=$2 kills=${FAULT_KILLS:-30} i ms during=0 mid lost ex t0 clean maxms left lo=99999 hi=0
	# a clean drain first: it sets the pace the kills are spread by
	restore "$p"
	fsd_start
	t0=$(now_ns)
	pass "$p"
	clean=$((($(now_ns) - t0) / 1000000))
	restore "$p"
	fsd_start
	# FAULT_VERBOSE=1: postern's runners get -v, their "ID: to=<...>, status=sent" lines are kept
	[ "$p" = postern ] && [ "${FAULT_VERBOSE:-0}" = 1 ] && { RUNNER_V=$WORK/kills-v.log; : >"$RUNNER_V"; }
	RANDOM=$k
	for i in $(seq 1 "$kills"); do
		# spread the kills still to come over what is left of a clean drain: a random 5..M ms,
		# M = 2 x (the clean drain time of what is left) / (the kills to come + 1)
		left=$(queue_count "$p")
		maxms=${FAULT_KILL_MS:-$((2 * clean * left / N / (kills - i + 2)))}
		[ "$maxms" -ge 10 ] || maxms=10
		ms=$((5 + RANDOM % (maxms - 4)))
		[ "$ms" -lt "$lo" ] && lo=$ms
		[ "$ms" -gt "$hi" ] && hi=$ms
		runner_start "$p"
		sleep "$(printf '0.%03d' "$ms")"
		runner_kill KILL
		[ "$(queue_count "$p")" -gt 0 ] && during=$((during + 1))
	done
	groups_kill
	mid=$(delivered)
	drain "$p" 5
	groups_kill
	RUNNER_V=''
	lost=$((N - $(delivered)))
	ex=$(extra)
	[ "$p" = postern ] && [ "${FAULT_VERBOSE:-0}" = 1 ] && sent_twice "$k"
	report "| $p | $k | $(secs 0 $((clean * 1000000))) | $lo..$hi | $during of $kills | $mid | $PASSES | $lost | $ex | $(twice) | $(queue_count "$p") |"
	add "C_LOST_$p" "$lost"
	add "C_EXTRA_$p" "$ex"
	say "kills: $p round $k: $during kills with mail left, $mid delivered by then, lost $lost, extra $ex"
	fsd_stop
}

# sent_twice ROUND - (FAULT_VERBOSE=1) messages postern's own -v output logged status=sent for twice
# or more: a 250 it had read and then sent again, not one that was in flight when it was killed.
sent_twice() {
	local n
	n=$(sed -n 's/.*: \([0-9A-Za-z]*\): to=<.*status=sent.*/\1/p' "$WORK/kills-v.log" | sort | uniq -d | wc -l)
	report "| postern | $1 | (-v) messages logged status=sent twice or more: $n; status=sent lines: $(grep -c 'status=sent' "$WORK/kills-v.log") | | | | | | | | |"
	say "kills: postern round $1: $n messages logged status=sent twice or more"
}

# ----------------------------------------------------------------------------------------- inside
inside() {
	WORK=$1
	. "$HERE/world.sh"
	world_etc
	world_mounts || die "mounts failed (overlayfs needed)"
	spools_reset
	msg_make "$WORK/msg-2k.eml" 2048
	postern_setup
	postern_probe
	local peers=dma p k parts=${FAULT_PARTS:-a b c}
	if [ "$POSTERN_OK" = 1 ]; then peers="postern dma"; else say "postern skipped: $POSTERN_WHY"; fi
	for p in $peers; do fill "$p" || die "could not queue $N messages for $p"; done
	report "# postern and dma under SMTP faults, $(date -u '+%Y-%m-%d %H:%M UTC')" "" \
		"Machine: $(nproc) CPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')), kernel $(uname -r), spools on $(df -T "$WORK" | awk 'NR==2 {print $2}'); load average when the runs began: $(cut -d' ' -f1-3 /proc/loadavg)." "" \
		"dma $(peer_version dma) (Debian), configured as bench/world.sh does (smarthost 127.0.0.1:25, DEFER); the sink: tests/integration/faultsmtpd.py --fast on 127.0.0.1:25. $N messages of 2 KB, each with its own Message-ID, queued once per peer and copied back before every run; $ROUNDS rounds, the peers in turn. Script: bench/b_faults.sh." ""
	if [ "$POSTERN_OK" = 1 ]; then
		report "postern: ${POSTERN_REV:-$(cd "$(dirname "$POSTERN")" && git rev-parse --short HEAD 2>/dev/null || echo 'revision unknown: set POSTERN_REV')} (\`runq -C conf\`, i.e. sendmail -q, per pass: every message, due or not)." ""
	else
		report "postern: **skipped** ($POSTERN_WHY)." ""
	fi
	case " $parts " in *" a "*)
		report "## a) 10% of DATA transfers dropped (--drop-data 0.1, seed = round): passes back to back until the queue is empty" "" \
			"| peer | round | passes | wall s | delivered after each pass | left | extra deliveries | note |" "|---|---:|---:|---:|---|---:|---:|---|"
		for k in $(seq 1 "$ROUNDS"); do
			for p in $peers; do
				[ "$p" = dma ] && [ "$k" -gt "${FAULT_DMA_A_ROUNDS:-1}" ] && continue
				drops_one "$p" "$k"
			done
		done
		report "" "Medians (rounds that emptied the queue): $(for p in $peers; do
			# shellcheck disable=SC2046
			printf '%s %s passes, %s s; ' "$p" "$(median $(get "A_PASSES_$p"))" "$(median $(get "A_WALL_$p"))"; done)target for postern: all delivered within 3 passes." "" ;;
	esac
	case " $parts " in *" b "*)
		report "## b) the 100th final dot never answered (--stall-dot 100): one pass, time until the other $((N - 1)) have arrived" "" \
			"| peer | round | s until $((N - 1)) delivered | delivered after 1 s | delivered at the end | runner still running |" "|---|---:|---:|---:|---:|---|"
		for k in $(seq 1 "$ROUNDS"); do for p in $peers; do stall_one "$p" "$k"; done; done
		report "" "Medians: $(for p in $peers; do
			# shellcheck disable=SC2046
			printf '%s %s s; ' "$p" "$(median $(get "B_TIME_$p"))"; done)target for postern: under 2 s." "" ;;
	esac
	case " $parts " in *" c "*)
		report "## c) ${FAULT_KILLS:-30} SIGKILLs of the runner's process group during the drain, then clean passes" "" \
			"Each kill comes a random 5..M ms after the runner's (re)start, M = twice the clean drain time of the messages still queued over the kills still to come + 1 (FAULT_KILL_MS fixes M), so the kills spread over the drain; \"kill after ms\" gives the delays drawn." "" \
			"| peer | round | clean drain s | kill after ms | kills with mail left | delivered by the last kill | clean passes | lost | extra deliveries | messages sent twice or more | left |" "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
		for k in $(seq 1 "$ROUNDS"); do for p in $peers; do kills_one "$p" "$k"; done; done
		report "" "Medians: $(for p in $peers; do
			# shellcheck disable=SC2046
			printf '%s lost %s, extra %s; ' "$p" "$(median $(get "C_LOST_$p"))" "$(median $(get "C_EXTRA_$p"))"; done)target for postern: lost 0, extra at most 10." "" ;;
	esac
	fsd_stop
	groups_kill
}

if [ "${1:-}" = --inside ]; then
	shift
	inside "$@"
	exit $?
fi
outer "$@"

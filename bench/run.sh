#!/bin/sh
# run.sh [BENCH...] - postern's benchmarks, side by side with peers from Debian's packages.
#
# Usage (as root):  sudo sh bench/run.sh                 # all: sink latency rss queue
#                   sudo sh bench/run.sh latency queue   # some of them (or sh bench/b_latency.sh)
# Environment:
#   POSTERN=PATH   the binary to measure (default: build/postern of this tree). If it is missing
#                  or cannot queue a probe message, postern's rows say "skipped" and why.
#   POSTERN_REV=TEXT what the report says was measured (default: git HEAD of POSTERN's directory)
#   RUNS=50 WARMUP=5        hyperfine runs for the latency benchmark
#   RSS_MIB=50  RSS_RUNS=3  size of the big message, runs per command (the median is shown)
#   QUEUE_N=1000            messages per queue run         KEEP=1  keep the work dir
#   STALL=30  give up on a delivery when the sink has seen nothing new for this many seconds
#   RUNQ_TIMEOUT=300        kill a queue runner still running after this many seconds
#
# Everything runs inside `unshare --net --mount --uts --pid --fork`: only loopback, so port 25 is
# ours; /etc, /usr and /var/spool are overlaid there only (world.sh). The peers (dma, nullmailer,
# and postfix for its smtp-sink) are fetched with `apt-get download` into bench/.cache before
# entering the namespace. Results: a Markdown report in bench/results/RESULTS-<date>.md, printed.
#
# FILES: run.sh (this), world.sh (the world), b_sink.sh b_latency.sh b_rss.sh b_queue.sh (one
# benchmark each: they define bench_NAME, and run just themselves when executed), b_faults.sh (the
# fault benchmark: run on its own, not by run.sh), README.md, results/ (the reports).

[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -u

HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/.." && pwd)
CACHE=$HERE/.cache
ALL_BENCHES="sink latency rss queue"

die() { echo "bench: $*" >&2; exit 1; }

# outer BENCH... - checks, the peers, the work dir, the namespace, the report.
outer() {
	local benches=${*:-$ALL_BENCHES} b c work rc out
	[ "$(id -u)" -eq 0 ] || die "must run as root (private network and mount namespaces, overlays)"
	for b in $benches; do
		[ -f "$HERE/b_$b.sh" ] || die "unknown benchmark '$b' (have: $ALL_BENCHES)"
	done
	for c in unshare ip hyperfine /usr/bin/time msmtp openssl apt-get dpkg-deb base64 mkfifo; do
		command -v "$c" >/dev/null || die "missing $c (apt-get install -y hyperfine time msmtp openssl iproute2 util-linux)"
	done
	. "$HERE/world.sh"
	peers_fetch "$CACHE" || die "could not fetch the peers' packages"
	POSTERN=${POSTERN-$REPO/build/postern}
	case $POSTERN in /*|'') ;; *) POSTERN=$PWD/$POSTERN ;; esac
	work=$(mktemp -d /var/tmp/postern-bench.XXXXXX) || die "mktemp failed"
	chmod 0755 "$work"	# postern's runner, as user postern, must reach the spool inside
	export POSTERN
	# shellcheck disable=SC2086 # benches: words
	unshare --net --mount --uts --pid --fork --mount-proc --propagation private \
		bash "$HERE/run.sh" --inside "$work" $benches
	rc=$?
	if [ -s "$work/report.md" ]; then
		mkdir -p "$HERE/results"
		out=$HERE/results/RESULTS-$(date +%Y-%m-%d).md
		cp "$work/report.md" "$out"
		echo
		cat "$out"
		echo
		echo "bench: report written to ${out#"$REPO"/}"
	fi
	if [ "${KEEP:-0}" = 1 ]; then
		echo "bench: work dir kept: $work"
	else
		rm -rf "$work"
	fi
	return $rc
}

# report LINE... - append lines to the report.
report() { printf '%s\n' "$@" >>"$WORK/report.md"; }

# inside WORK BENCH... - set the world up, run each benchmark, stop the sink.
inside() {
	WORK=$1
	shift
	. "$HERE/world.sh"
	world_etc
	world_mounts || die "mounts failed (overlayfs needed)"
	spools_reset
	sink_start || die "no sink"
	echo "bench: making messages" >&2
	msg_make "$WORK/msg-2k.eml" 2048
	msg_make_big "$WORK/msg-big.eml" "${RSS_MIB:-50}"
	postern_setup
	postern_probe
	PEERS_Q="dma nullmailer"	# the queueing peers
	if [ "$POSTERN_OK" = 1 ]; then
		PEERS_Q="postern $PEERS_Q"
	else
		echo "bench: postern skipped: $POSTERN_WHY" >&2
	fi
	report "# postern benchmarks, $(date -u '+%Y-%m-%d %H:%M UTC')" ""
	report "Machine: $(nproc) CPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')), $(free -m | awk '/^Mem:/ {print $2}') MB RAM, kernel $(uname -r), spools on $(df -T "$WORK" | awk 'NR==2 {print $2 " (" $1 ")"}')." "" \
		"Peers (Debian): dma $(peer_version dma), nullmailer $(peer_version nullmailer), msmtp $(peer_version msmtp); sink: smtp-sink from postfix $(peer_version postfix); hyperfine $(hyperfine --version | cut -d' ' -f2)." ""
	if [ "$POSTERN_OK" = 1 ]; then
		report "postern: $POSTERN (${POSTERN_REV:-$(cd "$(dirname "$POSTERN")" && git rev-parse --short HEAD 2>/dev/null || echo 'revision unknown: set POSTERN_REV')})."
	else
		report "postern: **skipped** ($POSTERN_WHY)."
	fi
	report ""
	local b rc=0
	BENCH_SOURCED=1
	for b in "$@"; do
		. "$HERE/b_$b.sh"
		echo "bench: == $b" >&2
		"bench_$b" || { echo "bench: $b failed" >&2; rc=1; }
	done
	kill "$SINK_PID" 2>/dev/null
	wait "$SINK_PID" 2>/dev/null
	return $rc
}

if [ "${1:-}" = --inside ]; then
	shift
	inside "$@"
	exit $?
fi
outer "$@"

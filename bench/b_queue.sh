# b_queue.sh - queue run throughput: QUEUE_N (default 1000) 2 KB messages are queued (the time that
# takes is shown too), then ONE queue run delivers them all to the sink: postern `sendmail -C conf
# -q`, `dma -D -q` (dma forks a delivery process per message), `nullmailer-send` with pausetime 0
# (one pass over the queue, then it exits; it runs its smtp module once per message). The clock
# stops when the runner has exited AND the sink has accepted all QUEUE_N messages (whichever is
# later: a runner that leaves children delivering in the background is not done). msmtp has no
# queue and is not in this table.
# Run alone: sudo sh bench/b_queue.sh
[ "${BENCH_SOURCED:-}" = 1 ] || exec sh "$(dirname "$0")/run.sh" queue

# queue_one PEER - one report row for PEER.
queue_one() {
	local p=$1 n=${QUEUE_N:-1000} cmd i t0 t1 t1b t2 s0 left rc
	spools_reset
	cmd=$(submit_cmd "$p")
	t0=$(date +%s%N)
	for i in $(seq 1 "$n"); do
		# shellcheck disable=SC2086
		$cmd <"$WORK/msg-2k.eml" >/dev/null 2>>"$WORK/queue-$p.err" ||
			{ report "| $p | queueing failed at message $i: $(tail -n 1 "$WORK/queue-$p.err") | | | |"; return; }
	done
	t1=$(date +%s%N)
	sync
	left=$(queue_count "$p")
	[ "$left" -eq "$n" ] || { report "| $p | queued $left of $n | | | |"; return; }
	s0=$(sink_count)
	cmd=$(runq_cmd "$p")
	t1b=$(date +%s%N)
	# shellcheck disable=SC2086
	timeout "${RUNQ_TIMEOUT:-300}" $cmd </dev/null >"$WORK/runq-$p.out" 2>&1
	rc=$?
	sink_wait $((s0 + n)) "${STALL:-30}" ||
		{ report "| $p | sink got $(($(sink_count) - s0)) of $n (runner exit $rc) | | | |"; return; }
	t2=$(date +%s%N)
	sleep 0.5	# let a runner's last children finish their clean-up before counting what is left
	left=$(queue_count "$p")
	printf -v "QRATE_$p" '%s' "$(awk -v n="$n" -v c="$t1b" -v d="$t2" 'BEGIN { printf "%.1f", n / ((d - c) / 1e9) }')"
	report "$(awk -v p="$p" -v n="$n" -v a="$t0" -v b="$t1" -v c="$t1b" -v d="$t2" -v l="$left" -v rc="$rc" 'BEGIN {
		q = (b - a) / 1e9; r = (d - c) / 1e9
		printf "| %s | %.2f | %.0f | %.2f | %.0f | %d (exit %d) |", p, q, n / q, r, n / r, l, rc }')"
	echo "bench: queue: $p: $(tail -n 1 "$WORK/report.md")" >&2
}

bench_queue() {
	local p
	report "## Queue run throughput (${QUEUE_N:-1000} messages of 2 KB, one queue run, to the sink)" "" \
		"| peer | queueing s | submissions/s | queue run s | delivered msg/s | left in queue |" \
		"|---|---:|---:|---:|---:|---:|"
	[ "$POSTERN_OK" = 1 ] || report "| postern | skipped | | | | |"
	for p in $PEERS_Q; do
		queue_one "$p"
	done
	report ""
	if [ -n "${QRATE_postern:-}" ] && [ -n "${QRATE_dma:-}" ]; then
		report "postern delivers $(awk -v a="$QRATE_postern" -v b="$QRATE_dma" 'BEGIN { printf "%.2f", a / b }')x dma's rate (target: at least 5x)." ""
	fi
	spools_reset
}

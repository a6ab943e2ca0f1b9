# b_queue.sh - queue run throughput: QUEUE_N (default 1000) 2 KB messages are queued (the time that
# takes is shown too), then ONE queue run delivers them all to the sink: postern `sendmail -C conf
# -q`, `dma -D -q` (dma forks a delivery process per message), `nullmailer-send` with pausetime 0
# (one pass over the queue, then it exits; it runs its smtp module once per message). The clock
# stops when the runner has exited AND the sink has accepted all QUEUE_N messages (whichever is
# later: a runner that leaves children delivering in the background is not done). msmtp has no
# queue and is not in this table. QUEUE_ROUNDS (default 3) rounds run the peers in turn (postern, dma,
# nullmailer, postern, ...), so drift on a shared machine hits them alike; every round is a row, and
# the verdict compares the medians. postern runs three times per round: `postern` (no DKIM),
# `postern-signs` (both keys, RSA-2048 and Ed25519, configured: the run signs every message before
# its first attempt) and `postern-signed` (the same, but an untimed run against a refusing
# smarthost signed the queue ahead; the timed run only sends), so the cost of signing in the run is
# the difference between the last two, reported per message beside openssl's own signing times.
# Run alone: sudo sh bench/b_queue.sh
[ "${BENCH_SOURCED:-}" = 1 ] || exec sh "$(dirname "$0")/run.sh" queue

# queue_one PEER ROUND - one report row for PEER; its rate is added to QRATES_PEER.
queue_one() {
	local p=$1 round=$2 n=${QUEUE_N:-1000} cmd i t0 t1 t1b t2 s0 left rc rate
	spools_reset
	cmd=$(submit_cmd "$p")
	t0=$(date +%s%N)
	for i in $(seq 1 "$n"); do
		# shellcheck disable=SC2086
		$cmd <"$WORK/msg-2k.eml" >/dev/null 2>>"$WORK/queue-$p.err" ||
			{ report "| $p | $round | queueing failed at message $i: $(tail -n 1 "$WORK/queue-$p.err") | | | | |"; return; }
	done
	t1=$(date +%s%N)
	sync
	left=$(queue_count "$p")
	[ "$left" -eq "$n" ] || { report "| $p | $round | queued $left of $n | | | | |"; return; }
	if [ "$p" = postern-signed ]; then
		# sign ahead, untimed: a run whose smarthost refuses connections signs every message
		# before its first attempt, stores the signatures and defers it; runq (sendmail -q) then forces them all
		timeout "${RUNQ_TIMEOUT:-300}" "$WORK/bin/runq" -C "$WORK/postern-closed.conf" \
			</dev/null >"$WORK/runq-presign.out" 2>&1
		left=$(grep -la '^PREPEND DKIM-Signature:' "$WORK"/postern-spool/deferred/* 2>/dev/null | wc -l)
		[ "$left" -eq "$n" ] || { report "| $p | $round | signed ahead $left of $n | | | | |"; return; }
	fi
	s0=$(sink_count)
	cmd=$(runq_cmd "$p")
	t1b=$(date +%s%N)
	# shellcheck disable=SC2086
	timeout "${RUNQ_TIMEOUT:-300}" $cmd </dev/null >"$WORK/runq-$p.out" 2>&1
	rc=$?
	sink_wait $((s0 + n)) "${STALL:-30}" ||
		{ report "| $p | $round | sink got $(($(sink_count) - s0)) of $n (runner exit $rc) | | | | |"; return; }
	t2=$(date +%s%N)
	sleep 0.5	# let a runner's last children finish their clean-up before counting what is left
	left=$(queue_count "$p")
	rate=$(awk -v n="$n" -v c="$t1b" -v d="$t2" 'BEGIN { printf "%.1f", n / ((d - c) / 1e9) }')
	eval "QRATES_$(echo "$p" | tr - _)=\"\${QRATES_$(echo "$p" | tr - _):-} $rate\""
	report "$(awk -v p="$p" -v k="$round" -v n="$n" -v a="$t0" -v b="$t1" -v c="$t1b" -v d="$t2" -v l="$left" -v rc="$rc" 'BEGIN {
		q = (b - a) / 1e9; r = (d - c) / 1e9
		printf "| %s | %d | %.2f | %.0f | %.3f | %.0f | %d (exit %d) |", p, k, q, n / q, r, n / r, l, rc }')"
	echo "bench: queue: $p: $(tail -n 1 "$WORK/report.md")" >&2
}

# openssl_sign_ms - CPU ms of one RSA-2048 plus one Ed25519 signature, from `openssl speed`.
openssl_sign_ms() {
	local r e
	r=$(openssl speed -seconds 1 rsa2048 2>/dev/null | awk '/^rsa 2048 bits/ { print 1000 / $(NF-1) }')
	e=$(openssl speed -seconds 1 ed25519 2>/dev/null | awk '/EdDSA \(Ed25519\)/ { print 1000 / $(NF-1) }')
	awk -v r="${r:-0}" -v e="${e:-0}" 'BEGIN { printf "%.3f (RSA-2048 %.3f, Ed25519 %.3f)", r + e, r, e }'
}

# median RATES... - the median of the numbers given.
median() { printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { if (NR) print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

bench_queue() {
	local p k rounds=${QUEUE_ROUNDS:-3} m md mp
	report "## Queue run throughput (${QUEUE_N:-1000} messages of 2 KB, one queue run, to the sink; $rounds rounds)" "" \
		"| peer | round | queueing s | submissions/s | queue run s | delivered msg/s | left in queue |" \
		"|---|---:|---:|---:|---:|---:|---:|"
	[ "$POSTERN_OK" = 1 ] || report "| postern | | skipped | | | | |"
	local peers=$PEERS_Q
	case " $PEERS_Q " in
	*" postern "*)
		peers="postern postern-signs postern-signed ${PEERS_Q#postern }"
		sed 's/^smarthost .*/smarthost 127.0.0.1:26/' "$WORK/postern-both.conf" >"$WORK/postern-closed.conf"
		chmod 0644 "$WORK/postern-closed.conf"
		;;
	esac
	for k in $(seq 1 "$rounds"); do
		for p in $peers; do
			queue_one "$p" "$k"
		done
	done
	report "" "Median delivered msg/s over the rounds:" ""
	for p in $peers; do
		eval "m=\${QRATES_$(echo "$p" | tr - _):-}"
		# shellcheck disable=SC2086
		[ -n "$m" ] && report "- $p: $(median $m | awk '{ printf "%.0f", $1 }') (rounds: $(echo $m | awk '{ for (i = 1; i <= NF; i++) printf "%s%.0f", (i > 1 ? ", " : ""), $i }'))"
	done
	report ""
	# shellcheck disable=SC2086
	if [ -n "${QRATES_postern:-}" ] && [ -n "${QRATES_dma:-}" ]; then
		mp=$(median $QRATES_postern)
		md=$(median $QRATES_dma)
		report "postern delivers $(awk -v a="$mp" -v b="$md" 'BEGIN { printf "%.2f", a / b }')x dma's rate, medians of $rounds rounds (target: at least 5x)." ""
	fi
	# shellcheck disable=SC2086
	if [ -n "${QRATES_postern_signs:-}" ] && [ -n "${QRATES_postern_signed:-}" ] && [ -n "${QRATES_dma:-}" ]; then
		local ms mz
		ms=$(median $QRATES_postern_signs)
		mz=$(median $QRATES_postern_signed)
		report "postern-signs (the run signs every message with RSA-2048 and Ed25519): $(awk -v a="$ms" -v b="$md" 'BEGIN { printf "%.2f", a / b }')x dma's rate (target: at least 2x);" \
			"postern-signed (the same queue, signed ahead): $(awk -v a="$mz" -v b="$md" 'BEGIN { printf "%.2f", a / b }')x (target: at least 5x)." "" \
			"Per message: $(awk -v a="$ms" -v b="$mz" 'BEGIN { printf "%.3f", 1000 / a }') ms of queue run when the run signs, $(awk -v b="$mz" 'BEGIN { printf "%.3f", 1000 / b }') ms when it does not;" \
			"signing and hashing add $(awk -v a="$ms" -v b="$mz" 'BEGIN { printf "%.3f", 1000 / a - 1000 / b }') ms (wall clock, $(nproc) CPUs). Of that, the two signatures' CPU cost" \
			"(openssl speed, one core): $(openssl_sign_ms) ms; the rest is canonicalising and hashing the message and rewriting its envelope." ""
	fi
	spools_reset
}

# b_rss.sh - peak resident memory for one big message (default 50 MiB: a MIME message with base64
# random data in 76-character lines, made at bench time): `/usr/bin/time -f '%M %e'` around each
# submitter, RSS_RUNS runs (default 3), the median shown. %M is the largest peak RSS of any single
# process in the tree that time(1) waited for (getrusage RUSAGE_CHILDREN), not their sum: postern's
# two submission processes, nullmailer's sendmail/inject/queue chain, each count on their own.
# Run alone: sudo sh bench/b_rss.sh
[ "${BENCH_SOURCED:-}" = 1 ] || exec sh "$(dirname "$0")/run.sh" rss

# rss_one NAME CMD - run CMD <big message RSS_RUNS times; one report row: median KB and seconds.
rss_one() {
	local name=$1 cmd=$2 kb=() secs=() out
	for _ in $(seq 1 "${RSS_RUNS:-3}"); do
		spools_reset
		# shellcheck disable=SC2086 # cmd is words without spaces in them
		if ! /usr/bin/time -o "$WORK/time.out" -f '%M %e' $cmd <"$WORK/msg-big.eml" \
			>/dev/null 2>"$WORK/rss.err"; then
			report "| $name | failed: $(head -n 1 "$WORK/rss.err") | | |"
			return
		fi
		out=$(tail -n 1 "$WORK/time.out")
		kb+=("${out% *}")
		secs+=("${out#* }")
	done
	local mkb msec
	mkb=$(printf '%s\n' "${kb[@]}" | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }')
	msec=$(printf '%s\n' "${secs[@]}" | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }')
	report "| $name | $mkb | $(awk -v k="$mkb" 'BEGIN { printf "%.1f", k / 1024 }') | $msec |"
	echo "bench: rss: $name ${mkb} KB, ${msec} s" >&2
}

# rss_runq PEER - queue the big message, then one report row for the queue run that delivers it.
rss_runq() {
	local p=$1 s0 out cmd
	spools_reset
	cmd=$(submit_cmd "$p")
	# shellcheck disable=SC2086
	$cmd <"$WORK/msg-big.eml" >/dev/null 2>"$WORK/rss.err" ||
		{ report "| $p | queueing failed: $(head -n 1 "$WORK/rss.err") | | |"; return; }
	s0=$(sink_count)
	cmd=$(runq_cmd "$p")
	# shellcheck disable=SC2086
	timeout "${RUNQ_TIMEOUT:-300}" /usr/bin/time -o "$WORK/time.out" -f '%M %e' $cmd </dev/null >/dev/null 2>"$WORK/rss.err"
	sink_wait $((s0 + 1)) "${STALL:-30}" || { report "| $p | not delivered | | |"; return; }
	out=$(tail -n 1 "$WORK/time.out")
	report "| $p | ${out% *} | $(awk -v k="${out% *}" 'BEGIN { printf "%.1f", k / 1024 }') | ${out#* } |"
	echo "bench: rss: queue run $p ${out% *} KB" >&2
}

bench_rss() {
	local size v p
	size=$(stat -c %s "$WORK/msg-big.eml")
	report "## Peak RSS, one $(awk -v s="$size" 'BEGIN { printf "%.1f", s / 1048576 }') MiB message (/usr/bin/time -f %M, median of ${RSS_RUNS:-3})" "" \
		"| submitter | peak RSS KB | MiB | wall s |" "|---|---:|---:|---:|"
	if [ "$POSTERN_OK" = 1 ]; then
		for v in plain rsa ed25519; do
			rss_one "postern ($v)" "$(submit_cmd postern "$v")"
		done
	else
		report "| postern | skipped | | |"
	fi
	rss_one "dma (queue only)" "$(submit_cmd dma)"
	rss_one "nullmailer (queue only)" "$(submit_cmd nullmailer)"
	rss_one "msmtp (synchronous SMTP)" "$(submit_cmd msmtp)"
	report "" "Delivering that message: peak RSS of one queue run that sends it to the sink (one run)." "" \
		"| queue run | peak RSS KB | MiB | wall s |" "|---|---:|---:|---:|"
	for p in $PEERS_Q; do
		rss_runq "$p"
	done
	spools_reset
	report ""
}

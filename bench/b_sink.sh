# b_sink.sh - the sink's own ceiling: how fast postfix's smtp-sink on 127.0.0.1:25 accepts 2 KB
# messages from postfix's smtp-source, (a) one message per connection, one connection at a time,
# the way nullmailer delivers, (b) the same with 20 sessions in parallel (dma forks a delivery per
# message, all at once), and (c) 4 parallel sessions reusing their connection. The queue run
# rates of the peers must stay well below these for the sink not to be the bottleneck.
# Run alone: sudo sh bench/b_sink.sh
[ "${BENCH_SOURCED:-}" = 1 ] || exec sh "$(dirname "$0")/run.sh" sink

# sink_rate N ARGS... - messages per second for smtp-source ARGS sending N messages.
sink_rate() {
	local n=$1 before t0 t1
	shift
	before=$(sink_count)
	t0=$(date +%s%N)
	smtp_source -m "$n" -l 2048 -f sender@postern.example -t rcpt@sink.bench.example "$@" \
		127.0.0.1:25 >/dev/null 2>"$WORK/source.err" || { echo "smtp-source failed: $(head -n1 "$WORK/source.err")" >&2; echo "-"; return; }
	sink_wait $((before + n)) 10 || { echo "-"; return; }
	t1=$(date +%s%N)
	echo "$n $t0 $t1" | awk '{ printf "%.0f", $1 / (($3 - $2) / 1e9) }'
}

bench_sink() {
	local a b c
	a=$(sink_rate 2000 -s 1)
	b=$(sink_rate 4000 -s 20)
	c=$(sink_rate 10000 -s 4 -d)
	report "## Sink ceiling (postfix smtp-sink, 2 KB messages from smtp-source)" "" \
		"| client | messages/s |" "|---|---:|" \
		"| 1 session, new connection per message | $a |" \
		"| 20 parallel sessions, new connection per message | $b |" \
		"| 4 sessions, connections reused | $c |" ""
	echo "bench: sink: $a msg/s (1 conn/msg), $b msg/s (20 parallel, 1 conn/msg), $c msg/s (4 reused sessions)" >&2
}

# b_latency.sh - submission latency: one 2 KB message, `hyperfine --warmup 5 --runs 50`, for each
# of: postern queue-only (-odq) unsigned, DKIM RSA-2048 and DKIM Ed25519; dma queue-only (DEFER in
# its config); nullmailer's sendmail (nullmailer-inject -> nullmailer-queue; nobody pulls the
# trigger, so it only queues); msmtp, which has no queue: it delivers synchronously to the sink, so
# its figure is a whole SMTP transaction, not a queue write. hyperfine runs each through `sh -c`
# (for the stdin redirect) and subtracts the shell's start-up time.
# Run alone: sudo sh bench/b_latency.sh
[ "${BENCH_SOURCED:-}" = 1 ] || exec sh "$(dirname "$0")/run.sh" latency

bench_latency() {
	local msg=$WORK/msg-2k.eml v args=()
	spools_reset
	if [ "$POSTERN_OK" = 1 ]; then
		for v in plain rsa ed25519; do
			args+=(-n "postern ($v)" "$(submit_cmd postern "$v") <$msg")
		done
		if [ -x "$WORK/bin-static/sendmail" ]; then	# make OPENSSL=static
			for v in plain rsa ed25519; do
				args+=(-n "postern, OpenSSL static ($v)" "$(submit_cmd postern-static "$v") <$msg")
			done
		fi
	fi
	args+=(-n "dma (queue only)" "$(submit_cmd dma) <$msg")
	args+=(-n "nullmailer (queue only)" "$(submit_cmd nullmailer) <$msg")
	args+=(-n "msmtp (synchronous SMTP)" "$(submit_cmd msmtp) <$msg")
	hyperfine --warmup "${WARMUP:-5}" --runs "${RUNS:-50}" --style basic \
		--export-json "$WORK/latency.json" "${args[@]}" >&2 || return 1
	report "## Submission latency (one 2 KB message, hyperfine --warmup ${WARMUP:-5} --runs ${RUNS:-50})" "" \
		"| submitter | mean ms | ± σ | median | min | max |" "|---|---:|---:|---:|---:|---:|"
	/usr/bin/python3 - "$WORK/latency.json" >>"$WORK/report.md" <<-'PY'
	import json, sys
	for r in json.load(open(sys.argv[1]))["results"]:
	    ms = lambda x: "%.2f" % (x * 1000)
	    print("| %s | %s | %s | %s | %s | %s |" % (r["command"], ms(r["mean"]), ms(r["stddev"]),
	          ms(r["median"]), ms(r["min"]), ms(r["max"])))
	PY
	[ "$POSTERN_OK" = 1 ] || report "| postern | skipped | | | | |"
	report "" "msmtp has no queue: its row is a whole SMTP delivery to the sink, for scale only (about 40 ms" \
		"of it is a wait between its final dot and the sink's 250: Nagle's algorithm meeting delayed ACKs)." ""
}

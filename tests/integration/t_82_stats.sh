# t_82_stats.sh - postern stats (issue 13): the queue's depth by state, its oldest message, and the
# outcomes queue runs counted in the spool (sent over TLS, deferred in plaintext), as text, in
# Prometheus's format, and in stats_file after each run; mailq_users decides who may ask.

# st ARGS... - `postern -C $CONF stats ARGS`; stdout in $T/st.out, stderr in $T/st.err; its status.
st() {
	ln -sf "$BIN" "$T/bin/postern"
	"$T/bin/postern" -C "$CONF" stats "$@" >"$T/st.out" 2>"$T/st.err"
}

# PROM_CHECK - every line of a Prometheus text file is a comment or "name{labels} integer", and each
# metric has its HELP and TYPE before its samples.
PROM_CHECK='
import re, sys
seen = set()
for line in open(sys.argv[1], encoding="ascii"):
    line = line.rstrip("\n")
    m = re.match(r"# (HELP|TYPE) ([a-z_]+) .+$", line)
    if m:
        seen.add((m.group(1), m.group(2)))
        continue
    m = re.match(r"([a-z_]+)(\{[a-z]+=\"[a-z]+\"(,[a-z]+=\"[a-z]+\")*\})? [0-9]+$", line)
    assert m, line
    assert ("HELP", m.group(1)) in seen and ("TYPE", m.group(1)) in seen, line
'

test_stats_counts_and_textfile() {
	postern_env "stats_file $T/prom/postern.prom"
	chmod 0755 "$T"
	install -d -o postern -g postern -m 0755 "$T/prom"
	smtpd_start mx1 127.0.0.11:25 --tls || fail "start"
	msg a@postern.example a@mx-pref.example "two recipients" | submit -i a@mx-pref.example x@mx-pref.example
	msg a@postern.example b@implicit.example "nobody listens" | submit -t -i
	msg a@postern.example c@mx-pref.example "held" | submit -t -i
	local held
	held=$(grep -l "^RCPT c@mx-pref.example$" "$SPOOL"/data/* | xargs -n1 basename)
	ln -sf "$BIN" "$T/bin/postern"
	"$T/bin/postern" -C "$CONF" queue hold "$held" >/dev/null || fail "hold"
	st || fail "stats exited $?: $(cat "$T/st.err")"
	grep -qx "queue: 2 new, 0 deferred, 1 held" "$T/st.out" || fail "before the run: $(cat "$T/st.out")"
	grep -q "^recipients since: no queue run" "$T/st.out" || fail "counters before any run: $(cat "$T/st.out")"
	grep -qE "^oldest message: [0-9]+ s \(arrived 20[0-9-]+T[0-9:]+Z\)$" "$T/st.out" || fail "oldest: $(cat "$T/st.out")"
	[ -e "$T/prom/postern.prom" ] && fail "stats_file written before any run"
	queue_run
	expect_eq "delivered" 1 "$(mail_count mx1)"
	st || fail "stats exited $?"
	grep -qx "queue: 0 new, 1 deferred, 1 held" "$T/st.out" || fail "after the run: $(cat "$T/st.out")"
	grep -qx "  sent     2 (TLS 2, plaintext 0)" "$T/st.out" || fail "sent: $(cat "$T/st.out")"
	grep -qx "  deferred 1 (TLS 0, plaintext 1)" "$T/st.out" || fail "deferred: $(cat "$T/st.out")"
	grep -qx "  bounced  0 (TLS 0, plaintext 0)" "$T/st.out" || fail "bounced: $(cat "$T/st.out")"
	# the textfile, after the run: whole, 0644, the same numbers as --prometheus
	local f=$T/prom/postern.prom
	[ -f "$f" ] || fail "no stats_file after the run"
	expect_eq "stats_file mode" 644 "$(stat -c %a "$f")"
	ls "$T/prom" | grep -q tmp && fail "a temporary file was left: $(ls "$T/prom")"
	"$PY" -c "$PROM_CHECK" "$f" || fail "stats_file is not Prometheus text: $(cat "$f")"
	grep -qx 'postern_recipients_total{outcome="sent",tls="yes"} 2' "$f" || fail "stats_file: $(cat "$f")"
	grep -qx 'postern_queue_messages{state="held"} 1' "$f" || fail "stats_file: $(cat "$f")"
	st --prometheus || fail "stats --prometheus exited $?"
	"$PY" -c "$PROM_CHECK" "$T/st.out" || fail "--prometheus is not Prometheus text: $(cat "$T/st.out")"
	expect_eq "--prometheus and stats_file" "$(grep -v oldest_message_age "$f")" \
		"$(grep -v oldest_message_age "$T/st.out")"
	# a second run adds to the counters (the deferral again), never starts them over
	queue_run
	st || fail "stats exited $?"
	grep -qx "  deferred 2 (TLS 0, plaintext 2)" "$T/st.out" || fail "second run: $(cat "$T/st.out")"
	grep -qx "  sent     2 (TLS 2, plaintext 0)" "$T/st.out" || fail "second run: $(cat "$T/st.out")"
	st --bogus
	expect_eq "an unknown option" 64 "$?"
}

# mailq_users root: anyone else asking for the statistics gets 77 and one line.
test_stats_refused_as_mailq() {
	postern_env "mailq_users root"
	chmod 0755 "$T"
	ln -sf "$BIN" "$T/bin/postern"
	setpriv --reuid=65534 --regid=65534 --clear-groups -- "$T/bin/postern" -C "$CONF" stats \
		</dev/null >"$T/st.out" 2>"$T/st.err"
	expect_eq "postern stats as nobody" 77 "$?"
	expect_eq "stderr lines" 1 "$(wc -l <"$T/st.err")"
	grep -q "mailq_users" "$T/st.err" || fail "stderr: $(cat "$T/st.err")"
	st || fail "root may: $(cat "$T/st.err")"
}

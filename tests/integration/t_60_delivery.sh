# t_60_delivery.sh - delivery at scale and under stress, and the periodic queue runner: many
# recipients in few transactions, concurrent runners, runners killed with SIGKILL, the deferral
# record and the retry schedule, -qR/-qS/-qI selection, sendmail -qTIME (pidfile, refusals, SIGHUP
# with a new client certificate or a broken config, SIGTERM in the middle of a transaction,
# postern tls-reload) and the certbot deploy hook against a running runner. Each test has its own
# spool and servers. Helpers are prefixed dl_ (every t_*.sh is sourced into each test).
#
# The spool is checked directly (new/ deferred/ data/), not through mailq. Messages carry a unique
# X-Seq header so that stored copies can be counted per message.

# dl_third - publish third.example (MX 10 mx.third.example = 127.0.0.17), once per world.
dl_third() {
	grep -q '^third ' "$WORK/dns/example.extra" 2>/dev/null && return 0
	dns_add example "third 300 MX 10 mx.third.example." &&
		dns_add example "mx.third 300 A 127.0.0.17" || fail "dns_add third.example failed"
}

# dl_slow_start NAME IP:PORT SECONDS [smtpd.py options] - like smtpd_start, but each DATA is answered
# SECONDS after the final dot (slowsmtpd.py); MAILDIR/.data-started gets a line per DATA begun.
dl_slow_start() {
	local name=$1 listen=$2 delay=$3
	shift 3
	mkdir -p "$T/mail/$name" "$T/log"
	"$PY" "$HERE/slowsmtpd.py" --data-delay "$delay" --listen "$listen" --maildir "$T/mail/$name" \
		--log "$T/log/$name.log" "$@" >>"$T/log/$name.out" 2>&1 &
	echo $! >>"$T/pids"
	wait_for 10 port_open "$listen" || fail "slow smtpd $name on $listen did not start"
}

# dl_nodkim - drop the dkim lines from $CONF (signing is not what the bulk tests are about).
dl_nodkim() { sed -i '/^dkim /d' "$CONF"; }

# dl_seq_msg SEQ TO - a message with the unique header X-Seq: SEQ.
dl_seq_msg() { printf 'From: seq@postern.example\nTo: %s\nSubject: seq %s\nX-Seq: %s\n\nmessage %s\n' "$2" "$1" "$1" "$1"; }

# dl_submit_n N [DOMAIN...] - queue N messages X-Seq 1..N, one recipient each (n<i>@DOMAIN, the
# domains taken in turn; default mx-pref.example). Quiet (no xtrace for the loop).
dl_submit_n() {
	local n=$1 i d rc
	shift
	local doms=("${@:-mx-pref.example}")
	{ set +x; } 2>/dev/null
	for i in $(seq 1 "$n"); do
		d=${doms[$(((i - 1) % ${#doms[@]}))]}
		dl_seq_msg "$i" "n$i@$d" | "$T/bin/sendmail" -C "$CONF" -i -f seq@postern.example -- "n$i@$d" \
			>/dev/null 2>"$T/submit.err"
		rc=$?
		[ "$rc" -eq 0 ] || { set -x; fail "submission $i exited $rc: $(head -n 1 "$T/submit.err")"; }
	done
	set -x
}

# dl_spool_count DIR - files in $SPOOL/DIR.
dl_spool_count() { find "$SPOOL/$1" -type f | wc -l; }

# dl_expect_spool_empty - nothing in new/, deferred/ or data/.
dl_expect_spool_empty() {
	local l
	l=$(cd "$SPOOL" && find new deferred data -type f | head -n 6 | tr '\n' ' ')
	[ -z "$l" ] || fail "spool not empty: $l"
}

# dl_seq_counts - "COUNT SEQ" lines for every X-Seq stored by any server of this test.
dl_seq_counts() {
	cat "$T"/mail/*/*.eml 2>/dev/null | tr -d '\r' | sed -n 's/^X-Seq: //p' | sort -n | uniq -c
}

# dl_expect_each_once N - X-Seq 1..N each stored exactly once, nothing else.
dl_expect_each_once() {
	local c
	c=$(dl_seq_counts)
	expect_eq "distinct messages stored" "$1" "$(printf '%s\n' "$c" | grep -c .)"
	expect_eq "messages stored more than once" "" "$(printf '%s\n' "$c" | awk '$1 > 1 { printf "%s(x%s) ", $2, $1 }')"
	expect_eq "X-Seq values" "$(seq 1 "$1" | tr '\n' ' ')" "$(printf '%s\n' "$c" | awk '{ printf "%s ", $2 }')"
}

# dl_all_unlocked - no data file is locked (no runner or orphaned worker holds a message).
dl_all_unlocked() {
	local f
	for f in "$SPOOL"/data/*; do
		[ -e "$f" ] || continue
		flock -n -x "$f" true || return 1
	done
}

# dl_fp FILE - the SHA-256 fingerprint of the first certificate in FILE.
dl_fp() { openssl x509 -in "$1" -noout -fingerprint -sha256 2>/dev/null | sed 's/.*=//'; }

# dl_expect_peer SERVER N CERTFILE - message N at SERVER was sent showing CERTFILE's certificate.
dl_expect_peer() {
	expect_eq "client certificate shown with message $2" yes "$(env_get "$1" "$2" peer_cert)"
	[ -f "$T/mail/$1/$2.peer.pem" ] || fail "no $2.peer.pem"
	expect_eq "client certificate of message $2 ($(env_get "$1" "$2" peer_cert_subject))" \
		"$(dl_fp "$3")" "$(dl_fp "$T/mail/$1/$2.peer.pem")"
}

# dl_pair NAME CERT KEY - install a client pair as $T/tls/NAME.pem, NAME.key (root:postern 0644/0640).
dl_pair() {
	mkdir -p "$T/tls"
	cp "$2" "$T/tls/$1.pem"
	cp "$3" "$T/tls/$1.key"
	chown root:postern "$T/tls/$1.pem" "$T/tls/$1.key"
	chmod 0644 "$T/tls/$1.pem"
	chmod 0640 "$T/tls/$1.key"
}

# dl_use_pair NAME - point tls_cert/tls_key in $CONF at $T/tls/NAME.{pem,key}.
dl_use_pair() { sed -i "s|^tls_cert .*|tls_cert $T/tls/$1.pem|; s|^tls_key .*|tls_key $T/tls/$1.key|" "$CONF"; }

# dl_runner_start INTERVAL [setsid] - `sendmail -C $CONF -qINTERVAL -v` in the background (stderr
# in $T/runner.err); $RPID is its pid, once the pidfile ($T/postern.pid) holds it. With setsid it
# leads its own process group (as under systemd), so `kill -- -$RPID` reaches its workers too.
dl_runner_start() {
	local pre=()
	[ "${2:-}" = setsid ] && pre=(setsid)
	"${pre[@]}" "$T/bin/sendmail" -C "$CONF" "-q$1" -v </dev/null >"$T/runner.out" 2>"$T/runner.err" &
	RPID=$!
	echo "$RPID" >>"$T/pids"
	wait_for 5 dl_pidfile_is "$RPID" ||
		fail "the pidfile does not hold the runner's pid $RPID: '$(cat "$T/postern.pid" 2>&1)'; $(tail -n 2 "$T/runner.err")"
}
dl_pidfile_is() { [ "$(cat "$T/postern.pid" 2>/dev/null)" = "$1" ]; }

# dl_log_count TEXT - lines of the runner's stderr holding TEXT.
dl_log_count() { grep -cF -- "$1" "$T/runner.err" 2>/dev/null; }
dl_log_at_least() { [ "$(dl_log_count "$2")" -ge "$1" ]; }

dl_alive() { kill -0 "$1" 2>/dev/null; }

RELOADED="reload: configuration and certificates re-read"

# ------------------------------------------------------------------------------------ delivery

test_delivery_50_rcpts_3_domains() {	# one message, 50 recipients: one transaction per domain
	postern_env
	dl_third
	smtpd_start mx1 127.0.0.11:25 --tls && smtpd_start mx2 127.0.0.12:25 --tls &&
		smtpd_start imp 127.0.0.13:25 --tls && smtpd_start third 127.0.0.17:25 || fail "start"
	local args=() i want_mx='' want_imp='' want_third=''
	for i in $(seq 1 17); do args+=("u$i@mx-pref.example"); done
	for i in $(seq 18 34); do args+=("u$i@implicit.example"); done
	for i in $(seq 35 48); do args+=("u$i@third.example"); done
	args+=("u49@third.example, u50@third.example")	# an argument may hold a list
	msg "a@postern.example" "many@postern.example" "fifty" | submit -i -- "${args[@]}"
	queue_run
	want_mx=$(for i in $(seq 1 17); do echo "u$i@mx-pref.example"; done | sort | tr '\n' ' ' | sed 's/ $//')
	want_imp=$(for i in $(seq 18 34); do echo "u$i@implicit.example"; done | sort | tr '\n' ' ' | sed 's/ $//')
	want_third=$(for i in $(seq 35 50); do echo "u$i@third.example"; done | sort | tr '\n' ' ' | sed 's/ $//')
	expect_eq "transactions at mx1" 1 "$(mail_count mx1)"
	expect_eq "transactions at implicit" 1 "$(mail_count imp)"
	expect_eq "transactions at third" 1 "$(mail_count third)"
	expect_eq "transactions at mx2 (MX 20)" 0 "$(mail_count mx2)"
	expect_eq "rcpts at mx1" "$want_mx" "$(all_rcpts mx1)"
	expect_eq "rcpts at implicit" "$want_imp" "$(all_rcpts imp)"
	expect_eq "rcpts at third" "$want_third" "$(all_rcpts third)"
	expect_eq "RCPTs in all" 50 "$(cat "$T"/mail/*/*.env | grep -c '^rcpt_to: ')"
	expect_eq "tls at mx1" yes "$(env_get mx1 1 tls)"
	expect_eq "tls at third (no STARTTLS offered)" no "$(env_get third 1 tls)"
	cmp -s "$(mail_file mx1)" "$(mail_file imp)" && cmp -s "$(mail_file mx1)" "$(mail_file third)" ||
		fail "the three copies differ"
	expect_dkim "$(mail_file third)"
	dl_expect_spool_empty
}

test_delivery_duplicate_rcpts_once() {	# the same mailbox given three ways gets one RCPT
	postern_env
	smtpd_start mx1 127.0.0.11:25 || fail "start"
	msg "a@postern.example" "d@mx-pref.example" "dups" |
		submit -i -- d@mx-pref.example d@mx-pref.example "d@MX-Pref.Example" "<d@mx-pref.example>"
	queue_run
	expect_eq "transactions" 1 "$(mail_count mx1)"
	expect_eq "RCPTs" 1 "$(grep -c '^rcpt_to: ' "$T/mail/mx1/1.env")"
}

test_delivery_4_runners_200_msgs() {	# concurrent runners deliver each message exactly once
	postern_env
	dl_nodkim
	dl_third
	smtpd_start mx1 127.0.0.11:25 && smtpd_start imp 127.0.0.13:25 && smtpd_start third 127.0.0.17:25 || fail "start"
	dl_submit_n 200 mx-pref.example implicit.example third.example
	expect_eq "queued" 200 "$(dl_spool_count new)"
	local i pids=() rc
	for i in 1 2 3 4; do
		"$T/bin/sendmail" -C "$CONF" -q </dev/null >"$T/runner$i.out" 2>&1 &
		pids+=($!)
	done
	for i in 0 1 2 3; do
		wait "${pids[$i]}"
		rc=$?
		expect_eq "runner $((i + 1)) exit status" 0 "$rc"
	done
	dl_expect_each_once 200
	expect_eq "RCPTs at mx1" 67 "$(cat "$T"/mail/mx1/*.env | grep -c '^rcpt_to: ')"
	dl_expect_spool_empty
}

test_delivery_sigkill_runners() {	# runners killed at random moments lose nothing
	postern_env
	dl_nodkim
	dl_third
	smtpd_start mx1 127.0.0.11:25 && smtpd_start imp 127.0.0.13:25 && smtpd_start third 127.0.0.17:25 || fail "start"
	dl_submit_n 100 mx-pref.example implicit.example third.example
	local k pid kills=20 dups stored
	for k in $(seq 1 $kills); do
		"$T/bin/sendmail" -C "$CONF" -q </dev/null >>"$T/killed.out" 2>&1 &
		pid=$!
		sleep "$(printf '0.%03d' $((10 + RANDOM % 291)))"
		kill -KILL "$pid"
		wait "$pid" 2>/dev/null
	done
	stored=$(dl_seq_counts | awk '{ n += $1 } END { print n + 0 }')
	echo "# after $kills kills: $stored copies stored, $(find "$SPOOL/data" -type f | wc -l) messages left"
	wait_for 30 dl_all_unlocked || fail "messages still locked 30 s after the last kill (orphaned workers?)"
	queue_run
	dl_expect_spool_empty
	expect_eq "messages lost" "" "$(comm -23 <(seq 1 100 | sort) <(dl_seq_counts | awk '{ print $2 }' | sort))"
	dups=$(dl_seq_counts | awk '$1 > 1 { d += $1 - 1 } END { print d + 0 }')
	echo "# sigkill: $dups duplicate copies after $kills kills (3 destinations)"
	echo "$dups" >"$T/duplicates"
	# at a kill, at most one transaction per destination (3) is in flight
	[ "$dups" -le $((kills * 3)) ] || fail "$dups duplicates after $kills kills: more than the $((kills * 3)) transactions that can be in flight"
	[ "$(find "$SPOOL/tmp" -type f | wc -l)" -eq 0 ] || echo "# tmp/ holds $(find "$SPOOL/tmp" -type f | wc -l) files"
}

test_delivery_sigkill_orphan_worker_stops() {	# a killed runner's worker must not go on without it
	postern_env
	dl_nodkim
	dl_slow_start slow 127.0.0.11:25 0.5
	dl_submit_n 8 mx-pref.example
	"$T/bin/sendmail" -C "$CONF" -q </dev/null >"$T/killed.out" 2>&1 &
	local pid=$! begun dups
	wait_for 10 test -s "$T/mail/slow/.data-started" || fail "no DATA began"
	kill -KILL "$pid"
	wait "$pid" 2>/dev/null
	sleep 2.5
	begun=$(wc -l <"$T/mail/slow/.data-started")
	echo "# DATA begun by the time of the kill: 1; 2.5 s later: $begun"
	wait_for 15 dl_all_unlocked || fail "messages still locked 15 s after the kill"
	queue_run
	dl_expect_spool_empty
	expect_eq "messages lost" "" "$(comm -23 <(seq 1 8 | sort) <(dl_seq_counts | awk '{ print $2 }' | sort))"
	dups=$(dl_seq_counts | awk '$1 > 1 { d += $1 - 1 } END { print d + 0 }')
	echo "# duplicates: $dups"
	[ "$begun" -le 1 ] ||
		fail "$((begun - 1)) more transactions begun within 2.5 s after the runner was SIGKILLed in the first (its worker went on alone, unrecorded): $dups of 8 messages delivered twice"
	[ "$dups" -le 1 ] || fail "$dups duplicates; at most the one in flight at the kill"
}

test_delivery_4xx_deferred_and_due() {	# the deferral is recorded; queue-run honours it, -q does not
	postern_env
	sed -i 's/^retry_min .*/retry_min 1h/' "$CONF"
	ln -sf "$BIN" "$T/bin/postern"
	smtpd_start mx1 127.0.0.11:25 --rcpt-4xx 1 || fail "start"
	msg "a@postern.example" "later@mx-pref.example" "deferral" | submit -t -i
	local id t0 env next before
	id=$(ls "$SPOOL/new")
	[ -n "$id" ] && [ "$(echo "$id" | wc -l)" -eq 1 ] || fail "want one message in new/, got '$id'"
	t0=$(date +%s)
	queue_run
	expect_eq "delivered after the 451" 0 "$(mail_count mx1)"
	[ -e "$SPOOL/new/$id" ] && fail "new/$id still there after the attempt"
	[ -f "$SPOOL/deferred/$id" ] || fail "no deferred/$id"
	[ -f "$SPOOL/data/$id" ] || fail "no data/$id"
	env=$SPOOL/deferred/$id
	grep -qx "RCPT later@mx-pref.example" "$env" || fail "deferred/$id lacks the recipient"
	grep -qx "R-STATE pending" "$env" || fail "recipient not pending: $(grep R-STATE "$env")"
	grep -qx "R-STATUS 4.3.0" "$env" || fail "R-STATUS: $(grep R-STATUS "$env")"
	grep -q '^R-DIAG .*451 4.3.0 try again later (test world)' "$env" || fail "R-DIAG: $(grep R-DIAG "$env")"
	grep -qx "ATTEMPTS 1" "$env" || fail "ATTEMPTS: $(grep ^ATTEMPTS "$env")"
	next=$(sed -n 's/^NEXT-TRY //p' "$env")
	[ "$next" -ge $((t0 + 3600)) ] && [ "$next" -le $(($(date +%s) + 3600)) ] ||
		fail "NEXT-TRY $next is not an hour after the attempt ($t0)"
	before=$(cat "$env")
	"$T/bin/postern" -C "$CONF" queue-run </dev/null >"$T/qr.out" 2>&1
	expect_eq "postern queue-run exit status" 0 "$?"
	expect_eq "delivered by queue-run (not due)" 0 "$(mail_count mx1)"
	expect_eq "deferred/$id after queue-run" "$before" "$(cat "$env" 2>&1)"
	queue_run
	expect_eq "delivered by sendmail -q (everything)" 1 "$(mail_count mx1)"
	expect_eq "rcpt" later@mx-pref.example "$(all_rcpts mx1)"
	dl_expect_spool_empty
}

test_delivery_select_qR_qS_qI() {	# -qRdomain, -qSsender, -qIid take only what they name
	postern_env
	smtpd_start mx1 127.0.0.11:25 && smtpd_start imp 127.0.0.13:25 || fail "start"
	local s r ida
	for s in alice:a@mx-pref.example bob:b@implicit.example carol:c@mx-pref.example dave:d@implicit.example; do
		r=${s#*:}
		msg "${s%%:*}@postern.example" "$r" "select ${s%%:*}" | submit -i -f "${s%%:*}@postern.example" -- "$r"
	done
	for ida in $(ls "$SPOOL/new"); do spool_env "$ida" | grep -qx "SENDER alice@postern.example" && break; ida=; done
	[ -n "$ida" ] || fail "alice's message not found in new/"
	pm -qRnosuch.example </dev/null || fail "-qR exited $?"
	pm -qSnobody </dev/null || fail "-qS exited $?"
	pm -qI0000000000000000000 </dev/null || fail "-qI exited $?"
	expect_eq "delivered by non-matching selections" "0 0" "$(mail_count mx1) $(mail_count imp)"
	pm -qRimplicit.example </dev/null || fail "-qR exited $?"
	expect_eq "-qRimplicit.example: at implicit" "b@implicit.example d@implicit.example" "$(all_rcpts imp)"
	expect_eq "-qRimplicit.example: at mx1" 0 "$(mail_count mx1)"
	pm -qScarol </dev/null || fail "-qS exited $?"
	expect_eq "-qScarol: at mx1" c@mx-pref.example "$(all_rcpts mx1)"
	expect_eq "-qScarol: sender" carol@postern.example "$(env_get mx1 1 mail_from)"
	expect_eq "left: alice's" "$ida" "$(ls "$SPOOL/new" "$SPOOL/deferred" | grep -v '^/' | grep . | sort -u)"
	pm "-qI$ida" </dev/null || fail "-qI exited $?"
	expect_eq "-qI: at mx1" "a@mx-pref.example c@mx-pref.example" "$(all_rcpts mx1)"
	expect_eq "at implicit in the end" 2 "$(mail_count imp)"
	dl_expect_spool_empty
}

test_delivery_unusable_client_cert_delivers() {	# a bad client pair must not stop all mail
	# (issue 9, 5: the whole run used to be refused, every pass, until someone noticed.) Deliver
	# without a client certificate, say so in the log, in mailq's header line and in postern check;
	# the warning goes away with a good pair.
	cb_leaf other "DNS:mail.postern.example"
	dl_pair mixed "$T/pki/other.chain.pem" "$WORK/pki/client.key"	# the certbot window: mismatched
	postern_env "tls_cert $T/tls/mixed.pem" "tls_key $T/tls/mixed.key"
	smtpd_start mx1 127.0.0.11:25 --tls || fail "start"
	msg "a@postern.example" "w@mx-pref.example" "window" | submit -t -i
	pm -q -v </dev/null || fail "queue run exited $?: $(cat "$T/pm.err")"
	grep -q 'TLS client certificate unusable, mail goes out without it: .*mixed.key: .*mismatch' "$T/pm.err" ||
		fail "no warning: $(cat "$T/pm.err")"
	expect_eq "delivered without the client certificate" 1 "$(mail_count mx1)"
	expect_eq "over TLS" yes "$(env_get mx1 1 tls)"
	expect_eq "client certificate presented" no "$(env_get mx1 1 peer_cert)"
	mailq_text | head -n 1 | grep -q '^-- Warning from the last queue run: TLS client certificate unusable' ||
		fail "mailq header: $(head -n 2 "$T/pm.out")"
	ln -sf "$BIN" "$T/bin/postern"
	"$T/bin/postern" -C "$CONF" check --only tls >"$T/check.out" 2>&1
	grep -q "^FAIL  tls      .*mixed.key: .*mixed.key does not match the certificate in .*; fix: mail goes out without a client certificate" \
		"$T/check.out" || fail "check: $(grep tls "$T/check.out")"
	rm -f "$T/tls/mixed.key"	# missing: the same
	msg "a@postern.example" "w@mx-pref.example" "missing" | submit -t -i
	queue_run
	expect_eq "delivered with the key missing" 2 "$(mail_count mx1)"
	dl_pair mixed "$WORK/pki/client.chain.pem" "$WORK/pki/client.key"	# a good pair: the warning goes
	queue_run
	mailq_text | grep -q 'Warning' && fail "warning still shown: $(head -n 1 "$T/pm.out")"
	msg "a@postern.example" "w@mx-pref.example" "good" | submit -t -i
	queue_run
	expect_eq "delivered" 3 "$(mail_count mx1)"
	dl_expect_peer mx1 3 "$WORK/pki/client.pem"
	dl_expect_spool_empty
}

test_delivery_local_mx_refused_by_default() {	# an MX on 127/8: deferred unless allow_local_mx yes
	postern_env
	sed -i '/^allow_local_mx /d' "$CONF"	# the default: no
	smtpd_start mx1 127.0.0.11:25 || fail "start"
	msg "a@postern.example" "lo@mx-pref.example" "loop" | submit -t -i
	queue_run
	expect_eq "delivered to a loopback MX" 0 "$(mail_count mx1)"
	expect_eq "deferred" 1 "$(dl_spool_count deferred)"
	mailq_text | grep -q "(mail for mx-pref.example loops back to myself (mx1.mx-pref.example has the loopback address 127.0.0.11; allow_local_mx yes permits it))" ||
		fail "mailq reason: $(cat "$T/pm.out")"
	echo "allow_local_mx yes" >>"$CONF"
	queue_run
	expect_eq "delivered with allow_local_mx yes" 1 "$(mail_count mx1)"
	dl_expect_spool_empty
}

# dl_peak NAME - the most connections faultsmtpd NAME had open at once.
dl_peak() { cat "$T/mail/$1/peak" 2>/dev/null || echo 0; }

test_delivery_max_per_destination() {	# connections to one destination at once, whatever max_connections
	postern_env "max_connections 8" "max_per_destination 1"
	dl_nodkim
	faultsmtpd_start mx1 127.0.0.11:25 --drip 0.002 || fail "start mx1"
	faultsmtpd_start imp 127.0.0.13:25 --drip 0.002 || fail "start imp"
	dl_submit_n 40 mx-pref.example
	dl_submit_n 40 implicit.example
	queue_run
	expect_eq "delivered to mx-pref" 40 "$(ids_count mx1)"
	expect_eq "delivered to implicit" 40 "$(ids_count imp)"
	expect_eq "mx-pref: connections at once" 1 "$(dl_peak mx1)"
	expect_eq "implicit: connections at once" 1 "$(dl_peak imp)"
	# the default, 2: a busy destination gets a second connection, not more
	sed -i '/^max_per_destination /d' "$CONF"
	dl_submit_n 40 mx-pref.example
	queue_run
	expect_eq "delivered to mx-pref" 80 "$(ids_count mx1)"
	expect_eq "mx-pref: connections at once (default 2)" 2 "$(dl_peak mx1)"
	expect_eq "delivered twice" 0 "$(ids_dups mx1)"
	dl_expect_spool_empty
}

test_delivery_destination_rate_delay() {	# one connection, a pause between deliveries to a destination
	postern_env "max_connections 4" "destination_rate_delay 1"
	dl_nodkim
	faultsmtpd_start mx1 127.0.0.11:25 || fail "start mx1"
	faultsmtpd_start imp 127.0.0.13:25 || fail "start imp"
	dl_submit_n 3 mx-pref.example
	dl_submit_n 1 implicit.example
	local t0=$SECONDS
	queue_run
	expect_eq "delivered to mx-pref" 3 "$(ids_count mx1)"
	expect_eq "delivered to implicit" 1 "$(ids_count imp)"
	expect_eq "connections to mx-pref" 1 "$(wc -l <"$T/mail/mx1/connections" | tr -d ' ')"
	local a b c
	a=$(stat -c %.3Y "$T/mail/mx1/1.eml") b=$(stat -c %.3Y "$T/mail/mx1/2.eml") c=$(stat -c %.3Y "$T/mail/mx1/3.eml")
	python3 -c "import sys; a,b,c=map(float,sys.argv[1:]); sys.exit(0 if b-a>=0.95 and c-b>=0.95 else 1)" \
		"$a" "$b" "$c" || fail "deliveries not 1 s apart: $a $b $c"
	[ $((SECONDS - t0)) -ge 2 ] || fail "the run took $((SECONDS - t0)) s"
	dl_expect_spool_empty
}

test_delivery_source_address() {	# source_address: direct deliveries leave from it; not the smarthost's
	postern_env "source_address 127.0.0.77"
	dl_nodkim
	smtpd_start mx1 127.0.0.11:25 || fail "start"
	msg "a@postern.example" "src@mx-pref.example" "from .77" | submit -t -i
	queue_run
	expect_eq "delivered" 1 "$(mail_count mx1)"
	expect_eq "the peer the receiver saw" 127.0.0.77 "$(env_get mx1 1 peer)"
	expect_eq "EHLO stays hostname" mail.postern.example "$(env_get mx1 1 helo)"
	# an address this host does not have: deferred with the reason, never sent from another
	sed -i 's/^source_address .*/source_address 192.0.2.1/' "$CONF"
	msg "a@postern.example" "src2@mx-pref.example" "from nowhere" | submit -t -i
	queue_run
	expect_eq "delivered from an address not ours" 1 "$(mail_count mx1)"
	expect_eq "deferred" 1 "$(dl_spool_count deferred)"
	mailq_text | grep -q "cannot connect from 192.0.2.1 (source_address)" || fail "mailq reason: $(cat "$T/pm.out")"
}

# ------------------------------------------------------------------------------ periodic runner

test_periodic_q1m_pidfile_refusals() {	# sendmail -q1m: pidfile, first pass, a second runner, SIGTERM
	postern_env "pidfile $T/postern.pid"
	ln -sf "$BIN" "$T/bin/postern"
	smtpd_start mx1 127.0.0.11:25 || fail "start"
	dl_seq_msg 1 p@mx-pref.example | submit -i -- p@mx-pref.example
	dl_runner_start 1m
	wait_mail mx1 1 10 || fail "the first pass of -q1m did not deliver: $(tail -n 3 "$T/runner.err")"
	local rc
	"$T/bin/sendmail" -C "$CONF" -q1m </dev/null >"$T/second.out" 2>"$T/second.err" &
	local second=$!
	echo "$second" >>"$T/pids"
	wait_for 5 eval '! dl_alive '"$second" || fail "a second -q1m runner is running too"
	wait "$second"
	expect_eq "second -q1m exit status" 75 "$?"
	grep -q "already running (pid $RPID)" "$T/second.err" || fail "second runner's stderr: $(cat "$T/second.err")"
	expect_eq "pidfile after the second runner" "$RPID" "$(cat "$T/postern.pid")"
	"$T/bin/postern" -C "$CONF" tls-reload >"$T/reload.out" 2>&1
	expect_eq "tls-reload exit status" 0 "$?"
	grep -q "pid $RPID" "$T/reload.out" || fail "tls-reload says: $(cat "$T/reload.out")"
	wait_for 5 dl_log_at_least 1 "$RELOADED" || fail "the runner did not reload: $(tail -n 2 "$T/runner.err")"
	dl_alive "$RPID" || fail "the runner died"
	kill -TERM "$RPID"
	wait "$RPID"
	rc=$?
	expect_eq "runner exit status after SIGTERM" 0 "$rc"
	expect_eq "copies" 1 "$(mail_count mx1)"
	dl_expect_spool_empty
	[ -e "$T/postern.pid" ] && fail "the pidfile is left behind after SIGTERM (holding '$(cat "$T/postern.pid")')"
	return 0
}

test_periodic_bd_refused() {	# -bd -q30m: no daemon mode, exit 64, nothing started
	postern_env "pidfile $T/postern.pid"
	local a
	for a in "-bd -q30m" "-q30m -bd" "-bD -q1m"; do
		# shellcheck disable=SC2086
		timeout 5 "$T/bin/sendmail" -C "$CONF" $a </dev/null >"$T/bd.out" 2>"$T/bd.err"
		expect_eq "exit status of sendmail $a" 64 "$?"
		expect_eq "stderr lines of sendmail $a" 1 "$(wc -l <"$T/bd.err")"
		[ -e "$T/postern.pid" ] && fail "sendmail $a wrote the pidfile"
	done
	return 0
}

test_periodic_tls_reload_no_runner() {	# no runner: says so, exit 0
	postern_env "pidfile $T/postern.pid"
	ln -sf "$BIN" "$T/bin/postern"
	"$T/bin/postern" -C "$CONF" tls-reload >"$T/reload.out" 2>"$T/reload.err"
	expect_eq "exit status" 0 "$?"
	grep -q "no periodic queue runner is running" "$T/reload.out" || fail "stdout: $(cat "$T/reload.out" "$T/reload.err")"
	sh -c 'echo $$ >"$1"' _ "$T/postern.pid"	# a stale pidfile
	"$T/bin/postern" -C "$CONF" tls-reload >"$T/reload.out" 2>"$T/reload.err"
	expect_eq "exit status (stale pidfile)" 0 "$?"
	grep -q "no periodic queue runner is running" "$T/reload.out" || fail "stdout: $(cat "$T/reload.out" "$T/reload.err")"
}

test_periodic_sighup_new_client_cert() {	# SIGHUP, then tls-reload: each switches the client cert
	cb_leaf b "DNS:b.postern.example"
	cb_leaf c "DNS:c.postern.example"
	dl_pair a "$WORK/pki/client.chain.pem" "$WORK/pki/client.key"
	dl_pair b "$T/pki/b.chain.pem" "$T/pki/b.key"
	dl_pair c "$T/pki/c.chain.pem" "$T/pki/c.key"
	postern_env "pidfile $T/postern.pid" "tls_cert $T/tls/a.pem" "tls_key $T/tls/a.key"
	ln -sf "$BIN" "$T/bin/postern"
	smtpd_start mx1 127.0.0.11:25 --tls || fail "start"
	dl_runner_start 2s
	dl_seq_msg 1 h@mx-pref.example | submit -i -- h@mx-pref.example
	wait_mail mx1 1 10 || fail "the runner did not deliver message 1: $(tail -n 3 "$T/runner.err")"
	dl_expect_peer mx1 1 "$T/tls/a.pem"
	dl_use_pair b
	kill -HUP "$RPID"
	wait_for 5 dl_log_at_least 1 "$RELOADED" || fail "no reload after SIGHUP: $(tail -n 2 "$T/runner.err")"
	dl_seq_msg 2 h@mx-pref.example | submit -i -- h@mx-pref.example
	wait_mail mx1 2 10 || fail "the runner did not deliver message 2: $(tail -n 3 "$T/runner.err")"
	dl_expect_peer mx1 2 "$T/tls/b.pem"
	dl_use_pair c
	"$T/bin/postern" -C "$CONF" tls-reload >"$T/reload.out" 2>&1
	expect_eq "tls-reload exit status" 0 "$?"
	wait_for 5 dl_log_at_least 2 "$RELOADED" || fail "no reload after tls-reload: $(cat "$T/reload.out")"
	dl_seq_msg 3 h@mx-pref.example | submit -i -- h@mx-pref.example
	wait_mail mx1 3 10 || fail "the runner did not deliver message 3: $(tail -n 3 "$T/runner.err")"
	dl_expect_peer mx1 3 "$T/tls/c.pem"
	dl_alive "$RPID" || fail "the runner is gone"
	expect_eq "pidfile" "$RPID" "$(cat "$T/postern.pid")"
	dl_expect_each_once 3
}

test_periodic_sighup_bad_config_kept() {	# a config that does not load: logged, old one kept
	postern_env "pidfile $T/postern.pid"
	cp "$CONF" "$T/good.conf"
	smtpd_start mx1 127.0.0.11:25 || fail "start"
	dl_runner_start 2s
	echo "no_such_key 1" >>"$CONF"
	kill -HUP "$RPID"
	wait_for 5 dl_log_at_least 1 "reload: keeping the running configuration" ||
		fail "no log line for the broken config: $(tail -n 3 "$T/runner.err")"
	grep -F "reload: keeping the running configuration" "$T/runner.err" | grep "postern.conf:$(wc -l <"$CONF"): " |
		grep -q "no_such_key" ||
		fail "the log line does not name the file, line and key: $(grep -F 'keeping the running' "$T/runner.err")"
	expect_eq "reloads" 0 "$(dl_log_count "$RELOADED")"
	dl_seq_msg 1 k@mx-pref.example | "$T/bin/sendmail" -C "$T/good.conf" -i -- k@mx-pref.example ||
		fail "submission with the good config failed"
	wait_mail mx1 1 10 || fail "the runner stopped delivering after the bad reload: $(tail -n 3 "$T/runner.err")"
	dl_alive "$RPID" || fail "the runner is gone"
	cp "$T/good.conf" "$CONF"
	kill -HUP "$RPID"
	wait_for 5 dl_log_at_least 1 "$RELOADED" || fail "no reload once the config is fixed"
	dl_seq_msg 2 k@mx-pref.example | submit -i -- k@mx-pref.example
	wait_mail mx1 2 10 || fail "no delivery after the fixed reload"
	dl_expect_each_once 2
}

# dl_sigterm_test [group] - two messages for a server that takes 3 s per DATA; SIGTERM to the
# runner (or, with group, to its process group) while the first is in DATA: that one arrives, the
# second is not begun and stays queued, the runner exits 0 and removes its pidfile.
dl_sigterm_test() {
	postern_env "pidfile $T/postern.pid"
	dl_slow_start slow 127.0.0.11:25 3
	dl_seq_msg 1 t1@mx-pref.example | submit -i -- t1@mx-pref.example
	dl_seq_msg 2 t2@mx-pref.example | submit -i -- t2@mx-pref.example
	if [ "${1:-}" = group ]; then dl_runner_start 1m setsid; else dl_runner_start 1m; fi
	wait_for 10 test -s "$T/mail/slow/.data-started" || fail "no DATA began: $(tail -n 3 "$T/runner.err")"
	if [ "${1:-}" = group ]; then kill -TERM -- "-$RPID"; else kill -TERM "$RPID"; fi
	local rc t0=$SECONDS
	wait "$RPID"
	rc=$?
	echo "# the runner took $((SECONDS - t0)) s to stop"
	expect_eq "runner exit status after SIGTERM" 0 "$rc"
	expect_eq "DATA begun (1 before SIGTERM)" "data 1" "$(tr '\n' ' ' <"$T/mail/slow/.data-started" | sed 's/ $//')"
	expect_eq "messages stored" 1 "$(mail_count slow)"
	expect_eq "messages left in the spool" 1 "$(dl_spool_count data)"
	# the second was handed out but never started: no attempt charged (it may be in deferred/ all the
	# same: the run stored its DKIM signature before handing it out)
	expect_eq "left: envelopes" 1 "$(($(dl_spool_count new) + $(dl_spool_count deferred)))"
	expect_eq "left: attempts charged" "ATTEMPTS 0" "$(spool_env "$(ls "$SPOOL/data")" | grep '^ATTEMPTS ')"
	queue_run
	dl_expect_each_once 2
	dl_expect_spool_empty
	[ -e "$T/postern.pid" ] && fail "the pidfile is left behind after SIGTERM (holding '$(cat "$T/postern.pid")')"
	return 0
}

test_periodic_sigterm_mid_transaction() { dl_sigterm_test; }	# kill PID (an admin, kill $(cat pidfile))
test_periodic_sigterm_group_mid_transaction() { dl_sigterm_test group; }	# systemd's KillMode=control-group

test_periodic_certbot_hook_new_cert() {	# the deploy hook with a running runner: next delivery, new cert
	dl_pair client "$WORK/pki/client.chain.pem" "$WORK/pki/client.key"
	postern_env "pidfile $T/postern.pid" "tls_cert $T/tls/client.pem" "tls_key $T/tls/client.key"
	mkdir -p "$T/fakebin"
	printf '#!/bin/sh\nprintf "%%s\\n" "$*" >>"%s"\n' "$T/syslog" >"$T/fakebin/logger"
	chmod 0755 "$T/fakebin/logger"
	smtpd_start mx1 127.0.0.11:25 --tls || fail "start"
	dl_runner_start 2s
	dl_seq_msg 1 cb@mx-pref.example | submit -i -- cb@mx-pref.example
	wait_mail mx1 1 10 || fail "the runner did not deliver message 1"
	dl_expect_peer mx1 1 "$WORK/pki/client.pem"
	cb_leaf renewed "DNS:$CB_NAME"
	cb_lineage "$CB_NAME" renewed
	CB_BIN=$BIN cb_hook "$CB_NAME" || fail "hook exited $?: $(cat "$T/hook.err")"
	cmp -s "$LINEAGE/fullchain.pem" "$T/tls/client.pem" || fail "the hook did not install the new chain"
	dl_seq_msg 2 cb@mx-pref.example | submit -i -- cb@mx-pref.example
	wait_mail mx1 2 10 || fail "the runner did not deliver message 2"
	dl_expect_peer mx1 2 "$T/pki/renewed.pem"
	dl_alive "$RPID" || fail "the runner is gone"
	expect_eq "pidfile" "$RPID" "$(cat "$T/postern.pid")"
}

test_periodic_certbot_hook_signals_runner() {	# the hook's reload reaches the -C runner
	dl_pair client "$WORK/pki/client.chain.pem" "$WORK/pki/client.key"
	postern_env "pidfile $T/postern.pid" "tls_cert $T/tls/client.pem" "tls_key $T/tls/client.key"
	mkdir -p "$T/fakebin"
	printf '#!/bin/sh\nprintf "%%s\\n" "$*" >>"%s"\n' "$T/syslog" >"$T/fakebin/logger"
	chmod 0755 "$T/fakebin/logger"
	dl_runner_start 1m
	cb_leaf renewed "DNS:$CB_NAME"
	cb_lineage "$CB_NAME" renewed
	CB_BIN=$BIN cb_hook "$CB_NAME" || fail "hook exited $?: $(cat "$T/hook.err")"
	grep -q "pid $RPID" "$T/hook.out" || fail "the hook does not name the runner: $(cat "$T/hook.out")"
	wait_for 5 dl_log_at_least 1 "$RELOADED" ||
		fail "the runner never reloaded, though the hook says: $(tail -n 1 "$T/hook.out")"
}

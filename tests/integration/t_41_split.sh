# t_41_split.sh - the two programs (issue 10): the front door ($SM, set-group-id in an install) links
# no OpenSSL and hands queue runs to postern ($BIN) at its compiled-in path, which the world links to
# the build (run.sh, world_programs); postern refuses a front door's names.

# split_private FUNCTION - run FUNCTION (of this file) in a private mount namespace, so that a bind
# mount over the postern the front door runs is seen by this test alone.
split_private() {
	unshare --mount --propagation private bash -c '
		. "$HERE/world.sh"; . "$HERE/postern.sh"; . "$HERE/t_41_split.sh"; shopt -s lastpipe; set -x; "$@"' _ "$@" ||
		fail "$(cat "$T/reason" 2>/dev/null || echo "$1 failed")"
}

# postern_path - where the front door runs postern from (the first path in BUILD/paths).
postern_path() { set -- $(cat "$BUILD/paths" 2>/dev/null || echo /usr/sbin/postern); echo "$1"; }

# spy_postern - over postern's path (in this mount namespace only), a script that records its
# arguments ($T/spy.args, one call a line) and environment ($T/spy.env.N), then runs a copy of the
# real postern as runq or postern, as the front door named it (a script cannot see its argv[0]: the
# first argument tells them apart, -q... or -C FILE -q... is a queue run).
spy_postern() {
	cp "$BIN" "$T/postern.real"
	cat >"$T/spy" <<-SPY
	#!/bin/bash
	n=\$(wc -l <"$T/spy.args" 2>/dev/null || echo 0)
	env >"$T/spy.env.\$n"
	echo "\$*" >>"$T/spy.args"
	case " \$* " in *" -q"*) exec -a runq "$T/postern.real" "\$@" ;; esac
	exec -a postern "$T/postern.real" "\$@"
	SPY
	chmod 0755 "$T/spy"
	chmod 0755 "$T"
	mount --bind "$T/spy" "$(readlink -f "$(postern_path)")" || fail "bind the spy over postern"
}

# expect_clean_env FILE - the environment a front door gave postern: PATH (fixed) and nothing of
# the caller's (the test's FOO, LD_PRELOAD, HOME).
expect_clean_env() {
	grep -qx 'PATH=/usr/sbin:/usr/bin:/sbin:/bin' "$1" || fail "postern's PATH: $(grep ^PATH= "$1")"
	grep -Eq '^(FOO|LD_PRELOAD|HOME|LOCALDOMAIN)=' "$1" && fail "postern got the caller's environment: $(tr '\n' ' ' <"$1")"
	return 0
}

test_split_front_door_no_openssl() {
	sh "$HERE/../frontdoor.sh" "$SM" "$BIN" || fail "the front door links OpenSSL (see the output)"
}

# sendmail -q (and -qR, -v) execs postern from its compiled-in path with the caller's arguments and a
# clean environment; postern, called runq, delivers the queue.
test_split_q_runs_postern() { postern_env; split_private split_q_inner; }
split_q_inner() {
	spy_postern
	smtpd_start mx1 127.0.0.11:25 || fail "start"
	msg a@postern.example q1@mx-pref.example "q one" | submit -t -i
	msg a@postern.example q2@implicit.example "q two" | submit -t -i
	expect_eq "queued, not delivered" 0 "$(mail_count mx1)"
	FOO=bar HOME=/root LOCALDOMAIN=evil.example pm -qRmx-pref.example -v </dev/null ||
		fail "sendmail -qR exited $?: $(cat "$T/pm.err")"
	expect_eq "postern's arguments" "-C $CONF -qRmx-pref.example -v" "$(sed -n 1p "$T/spy.args")"
	expect_clean_env "$T/spy.env.0"
	grep -q '^postern/runq: ' "$T/pm.err" || fail "no runq log line on stderr: $(head -c 300 "$T/pm.err")"
	expect_eq "delivered by -qR" 1 "$(mail_count mx1)"
	pm -q </dev/null || fail "sendmail -q exited $?: $(cat "$T/pm.err")"
	expect_eq "postern's arguments" "-C $CONF -q" "$(sed -n 2p "$T/spy.args")"
	expect_eq "rcpts" "q1@mx-pref.example" "$(all_rcpts mx1)"
	expect_eq "q2 deferred (nothing listens on implicit.example)" 1 "$(ls "$SPOOL/deferred" | wc -l | tr -d ' ')"
}

# the run a submission starts (deliver background) is postern's runq -qIid, detached, with a clean
# environment; it delivers the message without any other queue run
test_split_detached_run_is_postern() { postern_env; split_private split_detached_inner; }
split_detached_inner() {
	spy_postern
	sed -i 's/^deliver queue$/deliver background/' "$CONF"
	smtpd_start mx1 127.0.0.11:25 || fail "start"
	msg a@postern.example bg@mx-pref.example "detached" | FOO=bar submit -t -i
	wait_mail mx1 1 20 || fail "the detached run delivered nothing"
	grep -Eqx -- "-qI[0-9A-Za-z]+ -C $CONF" "$T/spy.args" || fail "postern's arguments: $(cat "$T/spy.args")"
	expect_clean_env "$T/spy.env.0"
}

# the names: the front door called runq or postern passes the command to postern; postern called by
# a front door's name refuses and names it; runq takes queue runs only
test_split_names() {
	postern_env
	mkdir -p "$T/fd" "$T/qs"
	ln -sf "$SM" "$T/fd/runq"
	ln -sf "$SM" "$T/fd/postern"
	ln -sf "$BIN" "$T/qs/sendmail"
	ln -sf "$BIN" "$T/qs/mailq"
	ln -sf "$BIN" "$T/qs/runq"
	smtpd_start mx1 127.0.0.11:25 || fail "start"
	msg a@postern.example n@mx-pref.example "names" | submit -t -i
	"$T/fd/runq" -C "$CONF" </dev/null >"$T/o" 2>&1 || fail "sendmail as runq exited $?: $(cat "$T/o")"
	expect_eq "delivered by the front door's runq" 1 "$(mail_count mx1)"
	"$T/fd/postern" -C "$CONF" version >"$T/o" 2>&1 || fail "sendmail as postern exited $?: $(cat "$T/o")"
	grep -q '^postern [0-9]' "$T/o" || fail "sendmail as postern version: $(cat "$T/o")"
	local n rc
	for n in sendmail mailq; do
		msg a@postern.example x@mx-pref.example "refused" | "$T/qs/$n" -C "$CONF" -t >"$T/o" 2>&1
		rc=$?
		expect_eq "postern as $n: exit" 64 "$rc"
		grep -q "this is the queue side; the front door is /.*sendmail" "$T/o" || fail "postern as $n: $(cat "$T/o")"
	done
	"$T/qs/runq" -C "$CONF" -bp </dev/null >"$T/o" 2>&1
	expect_eq "runq -bp: exit" 64 "$?"
	grep -q "only queue runs here" "$T/o" || fail "runq -bp: $(cat "$T/o")"
	expect_eq "nothing queued by the refusals" "" "$(ls "$SPOOL/new")"
}

# no postern where the front door looks: sendmail -q says so (72), and a submission still queues (the
# detached run cannot start; the next queue run takes the message)
test_split_postern_missing() { postern_env; split_private split_missing_inner; }
split_missing_inner() {
	local p rc
	p=$(postern_path)
	mount -t tmpfs -o size=1m tmpfs "$(dirname "$p")" || fail "tmpfs over $(dirname "$p")"
	pm -q </dev/null
	rc=$?
	expect_eq "sendmail -q without postern: exit" 72 "$rc"
	grep -q "cannot run $p: No such file" "$T/pm.err" || fail "not told: $(cat "$T/pm.err")"
	sed -i 's/^deliver queue$/deliver background/' "$CONF"
	msg a@postern.example m@mx-pref.example "missing" | submit -t -i
	expect_eq "queued" 1 "$(ls "$SPOOL/new" | wc -l | tr -d ' ')"
}

# -oem as root with -C: the composer (nobody by then) refuses the message; the notice it asks for is
# sent by the privileged parent, through the front door with the same -C, so it lands in the spool that
# configuration names: one message, null sender, to root@ the configured domain, with the reason
test_split_oem_notice_in_C_spool() {
	postern_env
	local rc id
	printf 'To: bad@@x.example\nSubject: refused\n\nbody\n' | pm -oem -t -i
	rc=$?
	expect_eq "refused submission: exit" 65 "$rc"
	expect_eq "notices in the -C spool" 1 "$(ls "$SPOOL/new" | wc -l | tr -d ' ')"
	id=$(ls "$SPOOL/new")
	spool_env "$id" >"$T/notice.env" || fail "the notice has no envelope"
	spool_data "$id" | tr -d '\r' >"$T/notice.eml"
	grep -qx 'SENDER ' "$T/notice.env" || grep -qx 'SENDER <>' "$T/notice.env" ||
		fail "the notice's sender is not null: $(grep -i '^sender' "$T/notice.env")"
	grep -q 'root@postern.example' "$T/notice.env" || fail "the notice is not for root@postern.example: $(tr '\n' '|' <"$T/notice.env")"
	grep -q '^Subject: Returned mail: your message could not be sent' "$T/notice.eml" || fail "no notice subject"
	grep -q '^    .*bad@@x.example' "$T/notice.eml" || fail "the reason is not quoted: $(tr '\n' '|' <"$T/notice.eml")"
	# without -oem the same refusal sends nothing
	printf 'To: bad@@x.example\nSubject: refused\n\nbody\n' | pm -t -i
	expect_eq "messages after a plain refusal" 1 "$(ls "$SPOOL/new" | wc -l | tr -d ' ')"
}

# postern.sh - helpers for tests that run the built programs ($SM, the front door; $BIN, postern) in the world (bash,
# sourced by run.sh for each test). Each test gets its own spool, config and servers.

# postern_env [CONFIG LINE...] - a fresh spool ($SPOOL, with tmp new deferred data, root:postern
# 0770), a config file ($CONF) for the world (allow_local_mx yes; aliases $T/aliases, a file the
# test may write, unless a line sets aliases), and $T/bin/{sendmail,mailq} -> $SM. Extra config
# lines are appended (a later key is the test's choice; postern may treat repeats as errors, so
# tests pass only keys not in the base set below).
postern_env() {
	[ -x "$SM" ] && [ -x "$BIN" ] || fail "built programs missing or not executable: $SM, $BIN"
	mkdir -p "$T/bin"
	ln -sf "$SM" "$T/bin/sendmail"
	ln -sf "$SM" "$T/bin/mailq"
	SPOOL=$T/spool
	mkdir -p "$SPOOL/tmp" "$SPOOL/new" "$SPOOL/deferred" "$SPOOL/data"
	chown -R root:postern "$SPOOL"
	chmod 2770 "$SPOOL" "$SPOOL"/*	# setgid folders: files get group postern
	CONF=$T/postern.conf
	{
		echo "hostname mail.postern.example"
		echo "domain postern.example"
		echo "spool $SPOOL"
		echo "deliver queue"
		echo "dkim postern.example rsa2048 $WORK/keys/dkim-rsa.pem"
		echo "dkim postern.example ed25519 $WORK/keys/dkim-ed25519.pem"
		echo "resolver 127.0.0.53"
		echo "retry_min 0"
		echo "tls_ca $WORK/pki/ca/ca.pem"
		for l in "$@"; do echo "$l"; done	# (tests name them by line: the first is line 10)
		echo "allow_local_mx yes"	# every MX of the world is on 127.0.0.x
		# never the default /etc/postern/aliases: the host's (seen through /etc overlays) is not ours
		local own=1
		for l in "$@"; do case $l in "aliases "*) own= ;; esac; done
		[ -n "$own" ] && echo "aliases $T/aliases"
	} >"$CONF"
	chmod 0644 "$CONF"
	export SPOOL CONF
}

# pm ARGS... - run `sendmail -C $CONF ARGS` (stdin passed on); stdout/stderr in $T/pm.out/.err.
pm() {
	"$T/bin/sendmail" -C "$CONF" "$@" >"$T/pm.out" 2>"$T/pm.err"
	local rc=$?
	echo "pm $* -> $rc: $(head -c 300 "$T/pm.err")" >&2
	return $rc
}

# submit ARGS... <MSG - pm that must exit 0.
submit() { pm "$@" || fail "sendmail $* exited $?: $(head -n 1 "$T/pm.err")"; }

# queue_run [N] - `sendmail -q` N times (default 1); each must exit 0.
queue_run() {
	local i
	for i in $(seq 1 "${1:-1}"); do
		pm -q </dev/null || fail "sendmail -q exited $?: $(head -n 1 "$T/pm.err")"
	done
}

# mailq_text - `sendmail -bp` output (must exit 0).
mailq_text() {
	pm -bp </dev/null || fail "sendmail -bp exited $?: $(head -n 1 "$T/pm.err")"
	cat "$T/pm.out"
}

expect_queue_empty() {
	mailq_text | grep -q "Mail queue is empty" || fail "queue not empty: $(tr '\n' ' ' <"$T/pm.out" | head -c 200)"
}

# expect_queued ADDR - -bp lists a message for ADDR.
expect_queued() {
	local q
	q=$(mailq_text)
	case $q in *"Mail queue is empty"*) fail "queue is empty, want a message for $1" ;; esac
	grep -qiF "$1" "$T/pm.out" || fail "-bp does not list $1: $(tr '\n' ' ' <"$T/pm.out" | head -c 200)"
}

# A committed new message is data/ID (the message, then its envelope, then the 24-byte line
# "ENVELOPE-LENGTH nnnnnnn") and an empty new/ID; a deferred one has its envelope in deferred/ID.

# spool_env_len DATAFILE - the length of the envelope that ends DATAFILE (fails if none does).
spool_env_len() {
	local f
	f=$(tail -c 24 "$1") || return 1	# ($(...) drops the final newline)
	case $f in "ENVELOPE-LENGTH "[0-9][0-9][0-9][0-9][0-9][0-9][0-9]) ;; *) return 1 ;; esac
	echo $((10#${f#ENVELOPE-LENGTH }))
}

# spool_env ID - the envelope the runner would read for ID: deferred/ID, else the one that ends
# data/ID.
spool_env() {
	local d=$SPOOL/data/$1 n
	if [ -f "$SPOOL/deferred/$1" ]; then cat "$SPOOL/deferred/$1"; return; fi
	n=$(spool_env_len "$d") || return 1
	tail -c $((n + 24)) "$d" | head -c "$n"
}

# spool_data ID - the message bytes of ID: data/ID without the envelope that follows them.
spool_data() {
	local d=$SPOOL/data/$1 n
	if n=$(spool_env_len "$d"); then head -c $(($(stat -c %s "$d") - n - 24)) "$d"; else cat "$d"; fi
}

# spool_listing - every path and size under the spool (to prove it untouched).
spool_listing() { (cd "$SPOOL" && find . -mindepth 1 -printf '%p %s\n' | sort); }

# expect_spool_untouched BEFORE - the spool listing equals BEFORE and holds no message files.
expect_spool_untouched() {
	expect_eq "spool listing" "$1" "$(spool_listing)"
	[ -z "$(find "$SPOOL" -type f)" ] || fail "files in spool: $(find "$SPOOL" -type f | head -n 3)"
}

# expect_completed FILE - headers postern must complete: Date, Message-ID, From, Received; no Bcc.
expect_completed() {
	local f=$1 h
	for h in Date Message-ID From Received; do
		has_header "$f" "$h" || fail "delivered message lacks $h"
	done
	has_header "$f" Bcc && fail "delivered message still has Bcc"
	date -d "$(header "$f" Date)" >/dev/null 2>&1 || fail "Date unparseable: $(header "$f" Date)"
	header "$f" Message-ID | grep -Eq '^<[^<>@ ]+@[^<>@ ]+>$' || fail "Message-ID malformed: $(header "$f" Message-ID)"
	grep -q $'[^\r]$' "$f" && fail "a line without CRLF on the wire"
	return 0
}

# expect_dkim FILE - both signatures present and every verifier passes.
expect_dkim() {
	expect_eq "DKIM-Signature fields" 2 "$(dkim_sig_count "$1")"
	verify_dkimpy "$1" || fail "dkimpy rejects the signature"
	verify_opendkim "$1" || fail "opendkim rejects the signature"
	verify_maildkim "$1" || fail "Mail::DKIM rejects the signature"
}

# all_rcpts NAME - every rcpt_to the server NAME stored, sorted, space-separated.
all_rcpts() { cat "$T/mail/$1"/*.env 2>/dev/null | sed -n 's/^rcpt_to: //p' | sort | tr '\n' ' ' | sed 's/ $//'; }

# msg FROM TO SUBJECT [EXTRA HEADER LINES] - a caller's message, LF line ends as callers write them.
msg() {
	printf 'From: %s\nTo: %s\nSubject: %s\n' "$1" "$2" "$3"
	[ -n "${4:-}" ] && printf '%s\n' "$4"
	printf '\nHello from the %s test.\n.leading dot\n\nBye.\n' "$3"
}

# t_54_mime.sh - MIME completion end to end: the messages real callers send that lacked MIME fields,
# had body lines over 998 octets or accented display names go through the real submission path and
# queue runner to a receiving server of the world (aiosmtpd), where every DKIM verifier (dkimpy and
# opendkim for both algorithms, Mail::DKIM for RSA) must pass, the MIME fields must say what the body
# is, and Python's email package must decode the body and the From name back to exactly what the
# caller wrote. Test names all start with mime_ (INTEGRATION_ONLY='mime*').

# shellcheck source=tests/integration/dkim.sh
. "$HERE/dkim.sh"

# mime_case NAME ARGS... <MSG - submit MSG (kept as $T/case.NAME) with ARGS.
mime_case() {
	local name=$1
	shift
	cat >"$T/case.$name"
	submit "$@" <"$T/case.$name"
}

# body_of_case NAME - the caller's body of a case (after the first empty line; all of it when the
# message has no header section).
body_of_case() { sed '1,/^$/d' "$T/case.$1"; }

# mime_check NAME RCPT [CHARSET] - the message to RCPT arrived at mx1, every signature verifies, and
# Python decodes its body to the case's (with that charset).
mime_check() {
	local f bad
	f=$(dk_delivered_to mx1 "$2") || fail "$1: not delivered"
	bad=$(verify_each "$f" "$T/verify.$1.log")
	[ -z "$bad" ] || fail "$1: verification failed:$bad ($(grep -m1 -i fail "$T/verify.$1.log"))"
	body_of_case "$1" >"$T/want.$1"
	/usr/bin/python3 "$HERE/mimebody.py" "$f" ${3:+"$3"} >"$T/got.$1" 2>"$T/got.$1.err" ||
		fail "$1: Python cannot read the body: $(cat "$T/got.$1.err")"
	cmp -s "$T/want.$1" "$T/got.$1" || fail "$1: the body does not decode to what was sent: $(cmp "$T/want.$1" "$T/got.$1" 2>&1)"
	echo "$f"
}

# field F NAME - the unfolded value of field NAME of delivered message F ("" when absent).
field() { header "$1" "$2" | tr -d '\r'; }

# the issue's cases, through a server that offers 8BITMIME
test_mime_delivered_and_verified() {
	postern_env
	smtpd_start mx1 127.0.0.11:25 --tls || fail "start"
	local f i
	# `echo 'Grüße' | mail -s x user`: mailx writes no MIME fields
	printf 'To: mailx@mx-pref.example\nSubject: x\n\nGr\303\274\303\237e aus K\303\266ln\n' | mime_case mailx -t -i
	# cron's exact invocation, with the output of a job printing UTF-8 and no MIME fields (older
	# cron, or MAILCONTENTTYPE unset)
	printf 'From: root (Cron Daemon)\nTo: cron@mx-pref.example\nSubject: Cron <root@mail> /usr/local/bin/report\n\nSt\303\244dte: M\303\274nchen, Z\303\274rich\n' |
		mime_case cron -FCronDaemon -i -B8BITMIME -oem -t
	# not UTF-8 at all (a Latin-1 file cat into mail)
	printf 'To: latin1@mx-pref.example\nSubject: l1\n\ncaf\351 cr\350me\n' | mime_case latin1 -t -i
	# a 1,401-octet line of "é" after an "a", in a message with no MIME fields
	{ printf 'To: long@mx-pref.example\nSubject: long\n\na'; for i in $(seq 1 700); do printf '\303\251'; done; printf '\nend\n'; } |
		mime_case long -t -i
	# PHP HTML with its own MIME fields, 8bit, and a 3,000-octet line (minified HTML with a long URL)
	{ printf 'To: html@mx-pref.example\nSubject: Order\nFrom: Shop <shop@postern.example>\r\nMIME-Version: 1.0\r\nContent-type: text/html; charset=UTF-8\r\nContent-Transfer-Encoding: 8bit\n\n'
	  printf '<html><body><p>Gr\303\274\303\237e</p><a href="https://shop.example/track?id=%s&amp;x=1">track</a></body></html>\n' "$(head -c 3000 /dev/zero | tr '\0' 7)"; } |
		mime_case html -t -i
	# a -F name with accents on a plain ASCII message
	printf 'To: name@mx-pref.example\nSubject: hello\n\nplain text\n' | mime_case name -t -i -F $'Jos\303\251 M\303\274ller'
	queue_run
	wait_mail mx1 6 || fail "delivered: $(mail_count mx1) of 6"

	f=$(mime_check mailx mailx@mx-pref.example utf-8) || exit 1
	expect_eq "mailx: Content-Transfer-Encoding" 8bit "$(field "$f" Content-Transfer-Encoding)"
	expect_eq "mailx: MIME-Version" 1.0 "$(field "$f" MIME-Version)"
	expect_eq "mailx: BODY=" "BODY=8BITMIME" "$(env_get mx1 "$(basename "$f" .eml)" mail_options | grep -o 'BODY=8BITMIME')"
	f=$(mime_check cron cron@mx-pref.example utf-8) || exit 1
	f=$(mime_check latin1 latin1@mx-pref.example unknown-8bit) || exit 1
	f=$(mime_check long long@mx-pref.example utf-8) || exit 1
	expect_eq "long: Content-Transfer-Encoding" quoted-printable "$(field "$f" Content-Transfer-Encoding)"
	LC_ALL=C grep -q '[^ -~]' <(sed 's/\r$//' "$f" | tr -d '\t') && fail "long: 8-bit octets in what went out"
	f=$(mime_check html html@mx-pref.example utf-8) || exit 1
	expect_eq "html: Content-Transfer-Encoding fields" 1 "$(hdr_occurrences "$f" Content-Transfer-Encoding)"
	expect_eq "html: Content-Transfer-Encoding" quoted-printable "$(field "$f" Content-Transfer-Encoding)"
	expect_eq "html: Content-Type (the caller's)" "text/html; charset=UTF-8" "$(field "$f" Content-Type)"
	f=$(mime_check name name@mx-pref.example) || exit 1
	has_header "$f" MIME-Version && fail "name: MIME fields added to an ASCII message"
	LC_ALL=C.UTF-8 /usr/bin/python3 - "$f" <<-'PY' || fail "name: Python reads the From name differently"
	import email, email.policy, email.utils, sys
	m = email.message_from_binary_file(open(sys.argv[1], 'rb'), policy=email.policy.default)
	got = email.utils.parseaddr(str(m['From']))
	if got != ('Jos\u00e9 M\u00fcller', 'root@postern.example'):
	    sys.exit('From: %r' % (got,))
	PY
}

# the same set delivered to a server without 8BITMIME: the re-encoded ones are 7-bit and go as they
# are; what arrives still verifies (the 8-bit ones are the next-hop conversion's business, issue 11's
# "8-bit and the next hop"; here they must only not break the signature).
test_mime_long_line_to_7bit_server() {
	postern_env
	smtpd_start mx1 127.0.0.11:25 --tls --no-8bitmime --no-smtputf8 || fail "start"
	local f i
	{ printf 'To: long@mx-pref.example\nSubject: long\n\na'; for i in $(seq 1 700); do printf '\303\251'; done; printf '\nend\n'; } |
		mime_case long -t -i
	queue_run
	wait_mail mx1 1 || fail "not delivered"
	f=$(mime_check long long@mx-pref.example utf-8) || exit 1
	env_get mx1 "$(basename "$f" .eml)" mail_options | grep -q 'BODY=8BITMIME' && fail "BODY=8BITMIME for a 7-bit body"
	return 0
}

# ------------------------------------------------------------------- 8-bit and the next hop (RFC 6152)

# mime8_cases - the 8-bit messages real callers send, submitted (each kept as $T/case.NAME) to
# NAME@mx-pref.example: mail(1) with no MIME fields, cron's exact invocation, Latin-1, mail -s with a
# UTF-8 subject, a PHP HTML
# multipart/alternative with an 8bit label on the whole, a multipart/mixed with a nested
# alternative and a base64 attachment, and a text part with a 1,400-octet UTF-8 line.
mime8_cases() {
	local i
	printf 'To: mailx@mx-pref.example\nSubject: x\n\nGr\303\274\303\237e aus K\303\266ln\n' | mime_case mailx -t -i
	printf 'From: root (Cron Daemon)\nTo: cron@mx-pref.example\nSubject: Cron <root@mail> /usr/local/bin/backup\nMIME-Version: 1.0\nContent-Type: text/plain; charset=UTF-8\nContent-Transfer-Encoding: 8bit\nX-Cron-Env: <SHELL=/bin/sh>\nX-Cron-Env: <HOME=/root>\n\nbackup: caf\303\251 done\n' |
		mime_case cron -FCronDaemon -i -B8BITMIME -oem -t
	printf 'To: latin1@mx-pref.example\nSubject: l1\n\ncaf\351 cr\350me\n' | mime_case latin1 -t -i
	# bsd-mailx's `mail -s 'Grüße aus Köln'`: the subject raw UTF-8, no MIME fields
	printf 'To: mails@mx-pref.example\nSubject: Gr\303\274\303\237e aus K\303\266ln\n\nBis bald in K\303\266ln.\n' |
		mime_case mails -t -i
	{ printf 'To: php@mx-pref.example\nSubject: Order\nFrom: Shop <shop@postern.example>\r\nMIME-Version: 1.0\r\n'
	  printf 'Content-Type: multipart/alternative; boundary="=_php 42"\r\nContent-Transfer-Encoding: 8bit\n\n'
	  printf -- '--=_php 42\nContent-Type: text/plain; charset=UTF-8\nContent-Transfer-Encoding: 8bit\n\nGr\303\274\303\237e,  \n= Ihre Bestellung =\n\n'
	  printf -- '--=_php 42\nContent-Type: text/html; charset=UTF-8\nContent-Transfer-Encoding: 8bit\n\n<p>Gr\303\274\303\237e,</p>\t\n<p>= Ihre Bestellung =</p>\n\n'
	  printf -- '--=_php 42--\n'; } | mime_case php -t -i
	{ printf 'To: mixed@mx-pref.example\nSubject: report\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=outer\n\n'
	  printf 'This is a multi-part message in MIME format.\n--outer\nContent-Type: multipart/alternative; boundary=inner\n\n'
	  printf -- '--inner\nContent-Type: text/plain; charset=UTF-8\n\nSt\303\244dte: M\303\274nchen\n--inner\n'
	  printf 'Content-Type: text/html; charset=UTF-8\n\n<b>M\303\274nchen</b>\n--inner--\n\n--outer\n'
	  printf 'Content-Type: application/octet-stream; name="a.bin"\nContent-Transfer-Encoding: base64\n\n'
	  head -c 3000 /dev/urandom | base64 -w 76
	  printf -- '--outer--\n'; } | mime_case mixed -t -i
	{ printf 'To: longpart@mx-pref.example\nSubject: long part\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=b\n\n--b\n'
	  printf 'Content-Type: text/plain; charset=UTF-8\n\na'
	  for i in $(seq 1 700); do printf '\303\251'; done
	  printf '\nend\n--b\nContent-Type: text/plain\n\nshort\n--b--\n'; } | mime_case longpart -t -i
}

# mime8_check NAME [--7bit] - the case arrived at mx1, every signature verifies (dkimpy, opendkim),
# and every part decodes to the caller's (with --7bit: and no octet over 127, no line over 998).
mime8_check() {
	local f bad
	f=$(dk_delivered_to mx1 "$1@mx-pref.example") || fail "$1: not delivered"
	bad=$(verify_each "$f" "$T/verify.$1.log")
	[ -z "$bad" ] || fail "$1: verification failed:$bad ($(grep -m1 -i fail "$T/verify.$1.log"))"
	/usr/bin/python3 "$HERE/mimeparts.py" "$T/case.$1" >"$T/want.$1" || fail "$1: Python cannot read the case"
	/usr/bin/python3 "$HERE/mimeparts.py" ${2:+"$2"} "$f" >"$T/got.$1" 2>"$T/got.$1.err" ||
		fail "$1: $(cat "$T/got.$1.err")"
	cmp -s "$T/want.$1" "$T/got.$1" || fail "$1: the parts do not decode to what was sent: $(diff "$T/want.$1" "$T/got.$1" | head -n 5)"
	echo "$f"
}

# RFC 6152 section 3: to a server without 8BITMIME the 8-bit text parts go as quoted-printable, signed
# afresh (the stored signature covers the 8-bit form); MAIL carries no BODY=8BITMIME; what cannot be
# made 7-bit (8-bit in a message/rfc822 part) bounces 5.6.3, naming the reason.
test_mime_8bit_converted_for_7bit_server() {
	postern_env
	smtpd_start mx1 127.0.0.11:25 --tls --no-8bitmime --no-smtputf8 || fail "start"
	smtpd_start mxp 127.0.0.15:25 || fail "start mxp"
	local f n
	mime8_cases
	{ printf 'From: Sender <sender@postern.example>\nTo: rfc822@mx-pref.example\nSubject: fwd\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=b\n\n--b\n'
	  printf 'Content-Type: message/rfc822\n\nSubject: inner\n\nGr\303\274\303\237e\n--b--\n'; } |
		mime_case rfc822 -f sender@postern.example -t -i
	queue_run 2
	wait_mail mx1 7 || fail "delivered: $(mail_count mx1) of 7"
	for n in mailx cron latin1 mails php mixed longpart; do
		f=$(mime8_check "$n" --7bit) || exit 1
		env_get mx1 "$(basename "$f" .eml)" mail_options | grep -q 'BODY=8BITMIME' && fail "$n: BODY=8BITMIME"
		expect_eq "$n: signatures" 2 "$(dkim_sig_count "$f")"
	done
	f=$(dk_delivered_to mx1 mails@mx-pref.example)
	LC_ALL=C.UTF-8 /usr/bin/python3 - "$f" <<-'PY' || fail "mails: the Subject does not decode to what was sent"
	import email, email.policy, sys
	m = email.message_from_binary_file(open(sys.argv[1], 'rb'), policy=email.policy.default)
	if str(m['Subject']) != 'Gr\u00fc\u00dfe aus K\u00f6ln':
	    sys.exit('Subject: %r' % str(m['Subject']))
	PY
	f=$(dk_delivered_to mx1 php@mx-pref.example)
	expect_eq "php: the outer label" 7bit "$(field "$f" Content-Transfer-Encoding)"
	expect_eq "php: parts re-encoded" 2 "$(grep -c '^Content-Transfer-Encoding: quoted-printable' "$f")"
	f=$(dk_delivered_to mx1 mixed@mx-pref.example)
	expect_eq "mixed: the attachment untouched" 1 "$(grep -c '^Content-Transfer-Encoding: base64' "$f")"
	dk_delivered_to mx1 rfc822@mx-pref.example >/dev/null && fail "rfc822: 8-bit sent to a 7-bit server"
	wait_mail mxp 1 || fail "rfc822: no bounce"
	f=$(mail_file mxp)
	grep -qi '^Status: 5\.6\.3' "$f" || fail "rfc822: no Status 5.6.3 in the bounce"
	grep -qi 'message/rfc822 part' "$f" || fail "rfc822: the bounce does not name the reason"
	expect_queue_empty
}

# The same messages to a server that offers 8BITMIME go 8-bit and unchanged (BODY=8BITMIME, the
# caller's encodings), and verify.
test_mime_8bit_kept_for_8bitmime_server() {
	postern_env
	smtpd_start mx1 127.0.0.11:25 --tls || fail "start"
	local f n
	mime8_cases
	queue_run
	wait_mail mx1 7 || fail "delivered: $(mail_count mx1) of 7"
	for n in mailx cron latin1 mails php mixed; do
		f=$(mime8_check "$n") || exit 1
		env_get mx1 "$(basename "$f" .eml)" mail_options | grep -q 'BODY=8BITMIME' || fail "$n: no BODY=8BITMIME"
		grep -q 'quoted-printable' "$f" && fail "$n: re-encoded for a server with 8BITMIME"
		LC_ALL=C grep -q $'[\x80-\xff]' "$f" || fail "$n: no 8-bit octet left"
	done
	f=$(dk_delivered_to mx1 php@mx-pref.example)
	expect_eq "php: the outer label" 8bit "$(field "$f" Content-Transfer-Encoding)"
	# the long UTF-8 line in a part: re-encoded at submission (lossless), whatever the next hop
	f=$(mime8_check longpart --7bit) || exit 1
	expect_eq "longpart: parts re-encoded" 1 "$(grep -c '^Content-Transfer-Encoding: quoted-printable' "$f")"
}

# --------------------------------------------------------------------------------- SpamAssassin

# The rules about what postern writes: header fields, MIME structure, HELO and trace, DKIM. Body and
# HTML content rules (TVD_*, HTML_MESSAGE, ...) are the caller's text, not postern's business.
SA_FAMILIES='^(MISSING_|INVALID_|MSGID|MIME_|PP_MIME_|CTYPE_|MPART_|CHARSET_|BAD_ENC_|HEADER_|HDR_|MALFORMED_|FORGED_|DATE_|FROM_|TO_|SUBJ_|SUBJECT_|HELO_|FSL_HELO_|RDNS_|RCVD_|NO_RECEIVED|NO_RELAYS|UNPARSEABLE_RELAY|DKIM_INVALID|DKIM_ADSP|T_DKIM_INVALID|DMARC_|EMPTY_MESSAGE)'

# The issue's "Done when" set (PHP plain, PHP HTML multipart, cron's exact invocation with UTF-8
# output, mail -s with a UTF-8 subject and body, an 8-bit body without MIME fields, a 1,400-octet UTF-8
# line, a -F name with accents) through the world's MTA: each verifies and decodes back, the HELO is
# the PTR of the address postern connects from, and `spamassassin -L -t` (local rules only) fires no
# rule of SA_FAMILIES. The receiving MTA's Received field is written as a real one would, with a
# public address in place of 127.0.0.1 (SpamAssassin trusts loopback and skips its HELO rules).
test_mime_spamassassin_clean() {
	command -v spamassassin >/dev/null || skip "spamassassin is not installed (tests/deps.sh installs it)"
	postern_env
	smtpd_start mx1 127.0.0.11:25 --tls || fail "start"
	local f n id helo peer ptr cases="phpplain php cron mails mailx long name" bad
	printf 'To: phpplain@mx-pref.example\nSubject: Contact form\nX-PHP-Originating-Script: 33:contact.php\nFrom: Web <web@postern.example>\r\nMIME-Version: 1.0\r\nContent-type: text/plain; charset=UTF-8\n\nName: Visitor\nMessage: hello, how are you?\n' |
		mime_case phpplain -t -i
	mime8_cases
	{ printf 'To: long@mx-pref.example\nSubject: long\n\na'; for n in $(seq 1 700); do printf '\303\251'; done; printf '\nend\n'; } |
		mime_case long -t -i
	printf 'To: name@mx-pref.example\nSubject: hello\n\nplain text\n' | mime_case name -t -i -F $'Jos\303\251 M\303\274ller'
	queue_run
	wait_mail mx1 10 || fail "delivered: $(mail_count mx1) of 10"
	: >"$T/sa.mbox"
	for n in $cases; do
		f=$(mime8_check "$n") || exit 1
		id=$(basename "$f" .eml)
		helo=$(env_get mx1 "$id" helo)
		peer=$(env_get mx1 "$id" peer)
		ptr=$(dig +short -x "$peer" @127.0.0.53 | sed 's/\.$//')
		expect_eq "$n: HELO is the PTR of $peer" "$ptr" "$helo"
		{ printf 'From postern-test Tue Dec  1 00:00:00 2026\n'
		  printf 'Received: from %s (%s [93.184.216.34])\n\tby mx1.mx-pref.example with ESMTPS id %s\n\tfor <%s@mx-pref.example>; %s\n' \
			"$helo" "$ptr" "$n" "$n" "$(date -R)"
		  tr -d '\r' <"$f"; printf '\n'; } >>"$T/sa.mbox"
	done
	spamassassin -L -t --mbox <"$T/sa.mbox" >"$T/sa.out" 2>"$T/sa.err" || fail "spamassassin: $(tail -n 1 "$T/sa.err")"
	# each message's X-Spam-Status, unfolded: "No, score=... tests=A,B,C autolearn=..."
	awk '/^X-Spam-Status:/ { s = $0; f = 1; next } f && /^[ \t]/ { sub(/^[ \t]+/, " "); s = s $0; next }
		f { print s; f = 0 }' "$T/sa.out" | sed 's/.*tests=//; s/ autolearn=.*//; s/ version=.*//; s/[ \t]//g' >"$T/sa.tests"
	expect_eq "messages scored" "$(echo "$cases" | wc -w)" "$(wc -l <"$T/sa.tests")"
	bad=$(tr ',' '\n' <"$T/sa.tests" | grep -E "$SA_FAMILIES" | sort -u | tr '\n' ' ')
	[ -z "$bad" ] || fail "SpamAssassin rules about postern's own work fired: $bad"
	return 0
}

# --------------------------------------------------------------- the 7-bit hop misbehaving (m7_)
# The destination is implicit.example (no MX, A 127.0.0.13): one host, so each reason is that host's.
# The server is faultsmtpd.py --no-8bitmime; a bad one is stopped and a good one started on the
# same maildir, whose ids file then shows any duplicate.

# m7_submit NAME... - per NAME an 8-bit message to NAME@implicit.example (kept as $T/case.NAME):
# mail(1) with no MIME fields.
m7_submit() {
	local n
	for n in "$@"; do
		printf 'To: %s@implicit.example\nSubject: 7bit %s\nMessage-ID: <%s.m7@postern.example>\n\nGr\303\274\303\237e aus K\303\266ln, %s\n' \
			"$n" "$n" "$n" "$n" | mime_case "$n" -t -i
	done
}

# m7_check SERVER NAME - the copy SERVER stored for NAME verifies (every verifier, two signatures,
# the 7-bit form's) and decodes to the case; no 8-bit octet, no BODY=8BITMIME.
m7_check() {
	local f bad
	f=$(dk_delivered_to "$1" "$2@implicit.example") || fail "$2: not delivered"
	bad=$(verify_each "$f" "$T/verify.$2.log")
	[ -z "$bad" ] || fail "$2: verification failed:$bad ($(grep -m1 -i fail "$T/verify.$2.log"))"
	expect_eq "$2: signatures" 2 "$(dkim_sig_count "$f")"
	/usr/bin/python3 "$HERE/mimeparts.py" "$T/case.$2" >"$T/want.$2" || fail "$2: Python cannot read the case"
	/usr/bin/python3 "$HERE/mimeparts.py" --7bit "$f" >"$T/got.$2" 2>"$T/got.$2.err" || fail "$2: $(cat "$T/got.$2.err")"
	cmp -s "$T/want.$2" "$T/got.$2" || fail "$2: the parts do not decode to what was sent: $(diff "$T/want.$2" "$T/got.$2" | head -n 5)"
	env_get "$1" "$(basename "$f" .eml)" mail_options | grep -q 'BODY=8BITMIME' && fail "$2: BODY=8BITMIME"
	return 0
}

# m7_ids NAME... - the spool ids of the cases, in order (by their Message-ID), into M7_IDS.
m7_ids() {
	local n id
	M7_IDS=
	for n in "$@"; do
		id=$(grep -l "^Message-ID: <$n.m7@postern.example>" "$SPOOL"/data/* 2>/dev/null | head -n 1)
		[ -n "$id" ] || fail "$n: not in the spool"
		M7_IDS="$M7_IDS ${id##*/}"
	done
}

# m7_deferred ID - deferred (attempt recorded, data kept), its recipient pending with a reason.
m7_deferred() {
	local env=$SPOOL/deferred/$1
	[ -f "$env" ] || fail "$1 not deferred (new/: $(ls "$SPOOL/new" | tr '\n' ' '))"
	[ -f "$SPOOL/data/$1" ] || fail "data/$1 gone"
	grep -qx "R-STATE pending" "$env" || fail "$1: recipient not pending: $(grep R-STATE "$env")"
	[ -n "$(sed -n 's/^R-DIAG //p' "$env")" ] || fail "$1: empty R-DIAG"
	sed -n 's/^R-DIAG //p' "$env"
}

# m7_good_again - stop the bad server m7 and start a good 7-bit one on its maildir; one run.
m7_good_again() {
	local pid
	pid=$(cat "$T/mail/m7/.listening")
	kill "$pid" && wait "$pid" 2>/dev/null
	rm -f "$T/mail/m7/.listening"
	faultsmtpd_start m7 127.0.0.13:25 --no-8bitmime || fail "start the good server"
	queue_run
}

# m7_bad_then_good MODE... - a bad 7-bit server in MODE, three 8-bit messages, one timed run: none stored,
# each deferred with a reason (printed); then a good server: each delivered once and verified.
m7_bad_then_good() {
	local t0 took n id
	faultsmtpd_start m7 127.0.0.13:25 --no-8bitmime "$@" || fail "start"
	m7_submit a1 a2 a3
	m7_ids a1 a2 a3
	t0=$SECONDS
	"$T/bin/sendmail" -C "$CONF" -q -v </dev/null >"$T/run.out" 2>&1
	took=$((SECONDS - t0))
	echo "# the run took $took s"
	[ "$took" -le "$M7_BOUND" ] || fail "the run took $took s, beyond its timeouts (bound $M7_BOUND s)"
	expect_eq "stored by the bad server" 0 "$(ids_count m7)"
	for id in $M7_IDS; do
		echo "# $id: $(m7_deferred "$id")"
		m7_deferred "$id" >/dev/null
	done
	m7_good_again
	dl_expect_spool_empty
	expect_eq "stored" 3 "$(ids_count m7)"
	expect_eq "stored twice" 0 "$(ids_dups m7)"
	for n in a1 a2 a3; do m7_check m7 "$n"; done
}

test_mime_8bit_7bit_hop_stall_after_354() {	# 354, then silence: deferred within the timeouts
	postern_env "timeout_data_done 2" "timeout_data_block 2" "timeout_message 10"
	M7_BOUND=20
	m7_bad_then_good --stall-354
}

test_mime_8bit_7bit_hop_stall_mid_body() {	# a body over the socket buffers: the write times out
	postern_env "timeout_data_done 2" "timeout_data_block 2" "timeout_message 10"
	local t0 took id
	faultsmtpd_start m7 127.0.0.13:25 --no-8bitmime --stall-354 || fail "start"
	# 3 MB of "é" (6 MB quoted-printable, more than loopback buffers take): the writer blocks
	{ printf 'To: big@implicit.example\nSubject: big\nMessage-ID: <big.m7@postern.example>\n\n'
	  head -c 1500000 /dev/zero | tr '\0' 'x' | sed 's/x/\xc3\xa9/g' | fold -w 140; printf '\n'; } | mime_case big -t -i
	m7_ids big
	t0=$SECONDS
	"$T/bin/sendmail" -C "$CONF" -q -v </dev/null >"$T/run.out" 2>&1
	took=$((SECONDS - t0))
	echo "# the run took $took s"
	[ "$took" -le 25 ] || fail "the run took $took s, beyond its timeouts"
	expect_eq "stored by the bad server" 0 "$(ids_count m7)"
	echo "# reason: $(m7_deferred $M7_IDS)"
	m7_deferred $M7_IDS | grep -q 'sending' || fail "the reason does not name the write: $(m7_deferred $M7_IDS)"
	m7_good_again
	dl_expect_spool_empty
	expect_eq "stored" 1 "$(ids_count m7)"
	m7_check m7 big
}

test_mime_8bit_7bit_hop_drop_mid_body() {	# dropped after 354 and a line: deferred, then once
	postern_env
	M7_BOUND=15
	m7_bad_then_good --drop-data 1
}

test_mime_8bit_7bit_hop_drop_after_dot() {	# closed before the reply to the dot (nothing stored)
	postern_env
	M7_BOUND=15
	# as the 8-bit path (t_65 faults_drop_data, faults_stall_dot): a lost reply is a lost
	# connection, the message tried again on a new one, then deferred naming the step
	m7_bad_then_good --drop-dot
	grep -q 'reading the reply to end of data' "$T/run.out" || fail "no loss at the end of data logged"
}

test_mime_8bit_7bit_hop_drop_after_250() {	# the first got its 250, the rest dropped after the dot
	postern_env "max_connections 1"
	faultsmtpd_start m7 127.0.0.13:25 --no-8bitmime --drop-dot --drop-after 1 || fail "start"
	m7_submit b1 b2 b3
	queue_run
	expect_eq "stored by the bad server" 1 "$(ids_count m7)"
	expect_eq "deferred" 2 "$(dl_spool_count deferred)"
	m7_good_again
	dl_expect_spool_empty
	expect_eq "stored" 3 "$(ids_count m7)"
	expect_eq "stored twice (the one with a 250 sent again)" 0 "$(ids_dups m7)"
	local n
	for n in b1 b2 b3; do m7_check m7 "$n"; done
}

test_mime_8bit_7bit_hop_4xx_others_go() {	# the first refused 451 at the dot: the rest go at once
	postern_env "max_connections 1"
	faultsmtpd_start m7 127.0.0.13:25 --no-8bitmime --dot-4xx 1 || fail "start"
	m7_submit c1 c2 c3 c4
	m7_ids c1 c2 c3 c4
	local t0=$SECONDS id n deferred=0
	queue_run
	[ $((SECONDS - t0)) -le 10 ] || fail "the run took $((SECONDS - t0)) s"
	expect_eq "stored" 3 "$(ids_count m7)"
	expect_eq "connections (one: the 451 is an answer, not a loss)" 1 "$(wc -l <"$T/mail/m7/connections")"
	for id in $M7_IDS; do
		if [ -f "$SPOOL/deferred/$id" ]; then
			deferred=$((deferred + 1))
			m7_deferred "$id" | grep -q '451 4.3.0 DATA 1 refused at the dot' ||
				fail "$id: reason $(m7_deferred "$id")"
		fi
	done
	expect_eq "deferred" 1 "$deferred"
	m7_good_again
	dl_expect_spool_empty
	expect_eq "stored" 4 "$(ids_count m7)"
	expect_eq "stored twice" 0 "$(ids_dups m7)"
	for n in c1 c2 c3 c4; do m7_check m7 "$n"; done
}

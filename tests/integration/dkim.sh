# dkim.sh - helpers for the DKIM signing tests (t_50_dkim.sh; bash, sourced by it): messages of
# many shapes, per-signature tag access, per-signature verification with every verifier, tampering.
# Each message goes through the real submission path (sendmail -C $CONF ...) and the real queue
# runner (sendmail -q) to a receiving server of the world, and is judged against the world's DNS.

# dkim_env [CONFIG LINE...] - postern_env, but without its two dkim lines: the test gives its own
# (`dkim DOMAIN SELECTOR FILE [canon=...]`, `dkim_canon ...`) among the lines.
dkim_env() {
	postern_env
	sed -i '/^dkim /d' "$CONF"
	local l
	for l in "$@"; do echo "$l" >>"$CONF"; done
}

# The two `dkim` lines of the world's keys (selectors rsa2048 and ed25519).
# shellcheck disable=SC2034 # used by t_50_dkim.sh
DKIM_RSA="dkim postern.example rsa2048 $WORK/keys/dkim-rsa.pem"
# shellcheck disable=SC2034
DKIM_ED="dkim postern.example ed25519 $WORK/keys/dkim-ed25519.pem"

# sig_field FILE I - the I-th (1-based) DKIM-Signature field's value, unfolded, every whitespace
# byte removed (tag values compare without FWS).
sig_field() {
	sed -e 's/\r$//' -e '/^$/q' "$1" | awk -v want="$2" '
		/^[ \t]/ { if (on) v = v $0; next }
		{ if (on) { print v; on = 0; done = 1 } }
		done { exit }
		tolower($0) ~ /^dkim-signature:/ { k++; if (k == want) { on = 1; v = substr($0, 16) } }
		END { if (on) print v }' | tr -d ' \t'
}

# sig_tag FILE I TAG - the value of TAG in the I-th DKIM-Signature (empty if absent).
sig_tag() {
	sig_field "$1" "$2" | tr ';' '\n' | sed -n "s/^$3=//p" | head -n 1
}

# sig_index FILE ALG - the 1-based index of the signature with a=ALG (empty if none).
sig_index() {
	local i n
	n=$(dkim_sig_count "$1")
	for i in $(seq 1 "$n"); do
		[ "$(sig_tag "$1" "$i" a)" = "$2" ] && { echo "$i"; return 0; }
	done
	return 1
}

# hdr_occurrences FILE NAME - how many header fields NAME the message has.
hdr_occurrences() { sed -e 's/\r$//' -e '/^$/q' "$1" | grep -ci "^$2[ \t]*:"; }

# hlist_count FILE I NAME - how many times NAME is in the I-th signature's h= list.
hlist_count() { sig_tag "$1" "$2" h | tr 'A-Z:' 'a-z\n' | grep -cx "$3"; }

# verify_each FILE LOG - every verifier on every signature; prints the failures ("dkimpy#1 ...").
# dkimpy and opendkim judge each signature alone; Mail::DKIM judges the RSA ones (its exit must be
# 0: 2 would mean it judged nothing).
verify_each() {
	local f=$1 log=$2 n i tmp bad=
	n=$(dkim_sig_count "$f")
	[ "$n" -gt 0 ] || { echo "no-signature"; return; }
	tmp=$(mktemp "$T/one.XXXXXX")
	for i in $(seq 1 "$n"); do
		echo "== dkimpy signature $i" >>"$log"
		/usr/bin/dkimverify --index $((i - 1)) <"$f" >>"$log" 2>&1 || bad="$bad dkimpy#$i"
		dkim_keep_one "$f" "$i" >"$tmp"
		echo "== opendkim signature $i" >>"$log"
		opendkim-testmsg -t "$WORK" <"$tmp" >>"$log" 2>&1 || bad="$bad opendkim#$i"
	done
	rm -f "$tmp"
	echo "== maildkim" >>"$log"
	verify_maildkim "$f" >>"$log" 2>&1 || bad="$bad maildkim"
	echo "$bad"
}

# reject_each FILE LOG - every verifier must reject every signature; prints the ones that passed.
reject_each() {
	local f=$1 log=$2 n i tmp rc good=
	n=$(dkim_sig_count "$f")
	tmp=$(mktemp "$T/one.XXXXXX")
	for i in $(seq 1 "$n"); do
		echo "== dkimpy signature $i (must fail)" >>"$log"
		/usr/bin/dkimverify --index $((i - 1)) <"$f" >>"$log" 2>&1 && good="$good dkimpy#$i"
		dkim_keep_one "$f" "$i" >"$tmp"
		echo "== opendkim signature $i (must fail)" >>"$log"
		opendkim-testmsg -t "$WORK" <"$tmp" >>"$log" 2>&1 && good="$good opendkim#$i"
	done
	rm -f "$tmp"
	echo "== maildkim (must fail)" >>"$log"
	verify_maildkim "$f" >>"$log" 2>&1
	rc=$?
	[ "$rc" -eq 1 ] || good="$good maildkim(exit-$rc)"
	echo "$good"
}

# expect_signed FILE CANON [DOMAIN] - two signatures, rsa-sha256 (s=rsa2048) and ed25519-sha256
# (s=ed25519), both with c=CANON and d=DOMAIN (default postern.example).
expect_signed() {
	local f=$1 i
	expect_eq "DKIM-Signature fields" 2 "$(dkim_sig_count "$f")"
	i=$(sig_index "$f" rsa-sha256) || fail "no rsa-sha256 signature"
	expect_eq "rsa s=" rsa2048 "$(sig_tag "$f" "$i" s)"
	expect_eq "rsa c=" "$2" "$(sig_tag "$f" "$i" c)"
	expect_eq "rsa d=" "${3:-postern.example}" "$(sig_tag "$f" "$i" d)"
	i=$(sig_index "$f" ed25519-sha256) || fail "no ed25519-sha256 signature"
	expect_eq "ed25519 s=" ed25519 "$(sig_tag "$f" "$i" s)"
	expect_eq "ed25519 c=" "$2" "$(sig_tag "$f" "$i" c)"
	expect_eq "ed25519 d=" "${3:-postern.example}" "$(sig_tag "$f" "$i" d)"
}

# expect_verified FILE - verify_each finds nothing wrong (the verifiers' output in the reason).
expect_verified() {
	local bad
	bad=$(verify_each "$1" "$T/verify.log")
	[ -z "$bad" ] || fail "verification failed:$bad: $(grep -v '^==\|^+' "$T/verify.log" | grep -v '^maildkim: .*: \(pass\|skipped\)' | tail -n 3)"
}

# dk_delivered_to SERVER RCPT - the stored message whose envelope has RCPT (fails if none).
dk_delivered_to() {
	local env
	env=$(grep -lix "rcpt_to: $2" "$T/mail/$1"/*.env 2>/dev/null | head -n 1)
	[ -n "$env" ] || return 1
	echo "${env%.env}.eml"
}

# dk_body_of FILE - the body of a stored message (after the first empty line).
dk_body_of() { sed '1,/^\r$/d' "$1"; }

# ------------------------------------------------------------------------------- message shapes
# shape_NAME - print the message (as a caller writes it, LF line ends unless the caller would not);
# shape_args_NAME - the sendmail arguments. The envelope recipient is always NAME@mx-pref.example.

SHAPES="empty_body header_only no_final_newline trailing_empty_lines whitespace_only_body whitespace
	empty_values ws_only_continuation long_folded long_unfolded header_over_998 odd_case crlf_input
	dots bare_cr utf8_body latin1_body utf8_header php cron multipart long_body_line large"

dk_hdrs() { printf 'From: Shapes <shapes@postern.example>\nTo: %s@mx-pref.example\nSubject: %s\n' "$1" "$2"; }

shape_empty_body() { dk_hdrs empty_body "empty body"; printf '\n'; }
shape_header_only() { dk_hdrs header_only "no empty line, no body"; }
shape_no_final_newline() { dk_hdrs no_final_newline "no final newline"; printf '\nfirst line\nlast line without newline'; }
shape_trailing_empty_lines() { dk_hdrs trailing_empty_lines "trailing empty lines"; printf '\ntext\n\n\n\n\n'; }
shape_whitespace() {
	printf 'From: Shapes <shapes@postern.example>\nTo:   whitespace@mx-pref.example  \n'
	printf 'Subject:   runs  of\t\tspaces \t\nX-Note:\t tabs\t and  spaces   \n'
	printf '\na  b\t\tc   \n \t \n\tindented\t \n  leading spaces\nend  \t\n\t\n \n'
}
shape_whitespace_only_body() {	# relaxed: the body canonicalises to nothing at all
	dk_hdrs whitespace_only_body "whitespace-only body"; printf '\n  \n\t\n \t \n\n'
}
shape_empty_values() {	# fields with empty values and without a space after the colon
	printf 'From:Shapes <shapes@postern.example>\nTo:empty_values@mx-pref.example\nSubject:\nKeywords: \nComments:\t\n\nbody\n'
}
shape_ws_only_continuation() {	# obs-FWS: a continuation line holding only white space
	dk_hdrs ws_only_continuation "ws-only continuation"; printf 'X-Fold: first\n \n\tlast\n\nbody\n'
}
shape_crlf_input() {	# a caller that writes CRLF line ends already
	dk_hdrs crlf_input "crlf input" | sed 's/$/\r/'; printf '\r\nline one\r\n\r\nline three\r\n'
}
shape_dots() {	# lines the SMTP client must dot-stuff (-i: a lone dot is data)
	dk_hdrs dots "dots"; printf '\n.\n..\n.leading\n...\nFrom the start\n.\n'
}
shape_bare_cr() {	# a bare CR is a line end (postern(8)); what is signed is what is sent
	dk_hdrs bare_cr "bare cr"; printf '\nbody\rwith cr\nand\r\r\nend\n'
}
shape_ws_before_colon() {	# (its own test) obs-optional (RFC 5322 4.5): white space between field name and colon
	printf 'From: Shapes <shapes@postern.example>\nTo: ws_before_colon@mx-pref.example\nSubject : space before colon\n'
	printf 'X-Tab\t:\ttab before colon\n\nbody\n'
}
shape_utf8_header() {	# RFC 6532: raw UTF-8 in a header field
	printf 'From: J\303\274rgen <shapes@postern.example>\nTo: utf8_header@mx-pref.example\n'
	printf 'Subject: caf\303\251 \342\234\223 \346\227\245\346\234\254\nMIME-Version: 1.0\nContent-Type: text/plain; charset=UTF-8\n\nbody\n'
}
shape_long_folded() {
	local i words=
	for i in $(seq 1 60); do words="$words word$((i % 10))"; done	# 60 * 6 = 360 octets
	printf 'From: Shapes <shapes@postern.example>\n'
	printf 'To: '
	for i in $(seq 1 20); do
		printf 'Recipient Number %d <rcpt%02d@mx-pref.example>' "$i" "$i"
		[ "$i" -lt 20 ] && printf ',\n\t'
	done
	printf '\nSubject:'
	echo "${words:0:300}" | fold -s -w 70 | sed -e '2,$s/^/ /'
	printf '\nlong folded headers\n'
}
shape_long_unfolded() {
	local i to=
	for i in $(seq 1 20); do to="$to${to:+, }Recipient Number $i <rcpt$i@mx-pref.example>"; done
	printf 'From: Shapes <shapes@postern.example>\nTo: %s\nSubject: %s\n\nbody\n' "$to" \
		"$(head -c 300 /dev/zero | tr '\0' s | sed 's/\(.\{29\}\)s/\1 /g')"
}
shape_header_over_998() {	# postern must fold this at white space before signing
	dk_hdrs header_over_998 "header over 998"
	printf 'X-Long: %s\n\nbody\n' "$(for i in $(seq 1 150); do printf 'token%03d ' "$i"; done)"
}
shape_odd_case() {
	printf 'fRoM: Shapes <shapes@postern.example>\nto: odd_case@mx-pref.example\nSUBJECT: odd case\n'
	printf 'mime-VERSION: 1.0\nCONTENT-type: text/plain\nmessage-ID: <odd.case@postern.example>\n\nbody\n'
}
shape_utf8_body() {
	dk_hdrs utf8_body "=?UTF-8?B?Y2Fmw6kg4pyT?="
	printf 'MIME-Version: 1.0\nContent-Type: text/plain; charset=UTF-8\nContent-Transfer-Encoding: 8bit\n'
	printf '\ncaf\303\251 \342\234\223 Gr\303\274\303\237e \346\227\245\346\234\254\350\252\236 \360\237\230\200\n'
}
shape_latin1_body() {
	dk_hdrs latin1_body "latin-1"
	printf 'MIME-Version: 1.0\nContent-Type: text/plain; charset=ISO-8859-1\nContent-Transfer-Encoding: 8bit\n'
	printf '\ncaf\351 \340 la cr\350me br\373l\351e\240\377\n\261\262\263\n'
}
shape_php() {	# PHP's mail(): To and Subject with LF, the script's extra headers joined by CRLF
	printf 'To: php@mx-pref.example\nSubject: Contact form\nX-PHP-Originating-Script: 33:contact.php\n'
	printf 'From: Web <web@postern.example>\r\nReply-To: visitor@mx-pref.example\r\nBcc: php-bcc@mx-pref.example\r\n'
	printf 'MIME-Version: 1.0\r\n'
	printf 'Content-type: text/html; charset=UTF-8\n\n<html><body><p>Name: Visitor</p>\n<p>Message: hi</p></body></html>\n'
}
shape_args_php() { echo "-t -i"; }
shape_cron() {
	printf 'From: root (Cron Daemon)\nTo: cron@mx-pref.example\nSubject: Cron <root@mail> test -x /usr/sbin/anacron || ( cd / && run-parts --report /etc/cron.daily )\n'
	printf 'MIME-Version: 1.0\nContent-Type: text/plain; charset=UTF-8\nContent-Transfer-Encoding: 8bit\n'
	printf 'X-Cron-Env: <SHELL=/bin/sh>\nX-Cron-Env: <HOME=/root>\nX-Cron-Env: <PATH=/usr/bin:/bin>\nX-Cron-Env: <LOGNAME=root>\n'
	printf '\n/etc/cron.daily/logrotate:\nerror: skipping "/var/log/x.log" because parent directory has insecure permissions\nrun-parts: /etc/cron.daily/logrotate exited with return code 1\n'
}
shape_args_cron() { echo "-FCronDaemon -i -B8BITMIME -oem cron@mx-pref.example"; }
shape_multipart() {
	dk_hdrs multipart "multipart with attachment"
	printf 'MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="=-b0und4ry-x"\n\n'
	printf 'This is a multi-part message in MIME format.\n\n--=-b0und4ry-x\n'
	printf 'Content-Type: text/plain; charset=UTF-8\nContent-Transfer-Encoding: 8bit\n\nSee the attachment.\n\n'
	printf -- '--=-b0und4ry-x\nContent-Type: application/octet-stream; name="data.bin"\n'
	printf 'Content-Transfer-Encoding: base64\nContent-Disposition: attachment; filename="data.bin"\n\n'
	head -c 204800 /dev/urandom | base64 -w 76
	printf -- '\n--=-b0und4ry-x--\n'
}
shape_long_body_line() {	# lines of 2500, 999 and 998 octets: re-encoded as quoted-printable, not cut
	dk_hdrs long_body_line "body line over 998"
	printf '\nshort\n%s\n%s\n%s\nend\n' "$(head -c 2500 /dev/zero | tr '\0' x)" \
		"$(head -c 999 /dev/zero | tr '\0' y)" "$(head -c 998 /dev/zero | tr '\0' z)"
}
shape_large() {	# 5 MB
	dk_hdrs large "5 MB"
	printf 'MIME-Version: 1.0\nContent-Type: application/octet-stream\nContent-Transfer-Encoding: base64\n\n'
	head -c 3900000 /dev/urandom | base64 -w 76
}

# shape_may_refuse NAME - the exit status with which postern may refuse shape NAME instead of
# sending it (empty: it must be sent).
shape_may_refuse() {
	case $1 in
	ws_before_colon) echo 65 ;;	# obsolete syntax: to be read as header fields, or refused
	esac
}

# shapes_submit - submit every shape (its input kept in $T/in/NAME).
shapes_submit() {
	local s args rc
	mkdir -p "$T/in"
	for s in $SHAPES; do
		"shape_$s" >"$T/in/$s"
		if declare -F "shape_args_$s" >/dev/null; then args=$("shape_args_$s"); else args="-i $s@mx-pref.example"; fi
		# shellcheck disable=SC2086
		pm $args <"$T/in/$s"
		rc=$?
		if [ "$rc" -ne 0 ] && [ "$rc" = "$(shape_may_refuse "$s")" ]; then
			echo "$s" >>"$T/submit.refused"
		elif [ "$rc" -ne 0 ]; then
			echo "$s:submission-exit-$rc($(head -n 1 "$T/pm.err"))" >>"$T/submit.failed"
		fi
	done
}

# shapes_check CANON - every shape arrived at mx1 signed twice with c=CANON, and every verifier
# accepts every signature; all failures are collected into one reason. The verifiers of different
# shapes run in parallel (4 at a time; most of their time is interpreter start-up).
shapes_check() {
	local s f problems='' pids=()
	mkdir -p "$T/res"
	for s in $SHAPES; do
		if grep -q "^$s:" "$T/submit.failed" 2>/dev/null; then
			problems="$problems $(grep "^$s:" "$T/submit.failed")"
			continue
		fi
		grep -qx "$s" "$T/submit.refused" 2>/dev/null && continue
		f=$(dk_delivered_to mx1 "$s@mx-pref.example") || { problems="$problems $s:not-delivered"; continue; }
		( expect_signed "$f" "$1" ) 2>/dev/null || { problems="$problems $s:$(cat "$T/reason")"; continue; }
		shape_content_check "$s" "$f" || problems="$problems $s:content($(cat "$T/content"))"
		echo "#### $s ($f)" >"$T/res/$s.log"
		verify_each "$f" "$T/res/$s.log" >"$T/res/$s.bad" 2>>"$T/res/$s.log" &
		pids+=($!)
		[ "${#pids[@]}" -ge 4 ] && { wait "${pids[@]}"; pids=(); }
	done
	[ "${#pids[@]}" -eq 0 ] || wait "${pids[@]}"	# not a bare wait: the servers are children too
	for s in $SHAPES; do
		[ -f "$T/res/$s.bad" ] || continue
		cat "$T/res/$s.log" >>"$T/verify.log"
		[ -z "$(cat "$T/res/$s.bad")" ] || problems="$problems $s:[$(sed 's/^ //' "$T/res/$s.bad")]"
	done
	[ -z "$problems" ] || fail "$1:$problems"
}

# shape_content_check NAME FILE - content checks for some shapes (reason in $T/content).
shape_content_check() {
	local s=$1 f=$2
	case $s in
	long_body_line)
		LC_ALL=C awk '{ if (length($0) > 999) { bad = 1 } } END { exit bad }' "$f" ||
			{ echo "a line over 998 octets" >"$T/content"; return 1; }
		/usr/bin/python3 "$HERE/mimebody.py" "$f" >"$T/decoded" 2>"$T/content" &&
			sed '1,/^$/d' "$T/in/$s" | cmp -s - "$T/decoded" ||
			{ echo "the body does not decode to what was sent $(cat "$T/content")" >"$T/content"; return 1; }
		;;
	header_over_998)
		LC_ALL=C awk '{ if (length($0) > 999) { bad = 1 } } END { exit bad }' "$f" ||
			{ echo "a line over 998 octets" >"$T/content"; return 1; }
		;;
	latin1_body)
		LC_ALL=C grep -q $'^caf\351 \340 la cr\350me br\373l\351e\240\377\r$' "$f" ||
			{ echo "8-bit body changed" >"$T/content"; return 1; }
		;;
	utf8_body)
		LC_ALL=C grep -q $'^caf\303\251 \342\234\223 Gr\303\274\303\237e' "$f" ||
			{ echo "8-bit body changed" >"$T/content"; return 1; }
		;;
	dots)
		[ "$(printf '.\r\n..\r\n.leading\r\n...\r\nFrom the start\r\n.\r\n')" = "$(dk_body_of "$f")" ] ||
			{ echo "dotted body changed" >"$T/content"; return 1; }
		;;
	ws_before_colon)	# the two fields must stay in the header section, the body stay "body"
		[ "$(hdr_occurrences "$f" Subject)" = 1 ] && [ "$(hdr_occurrences "$f" X-Tab)" = 1 ] ||
			{ echo "Subject/X-Tab not in the header section; body: $(dk_body_of "$f" | head -n 3 | tr -d '\r' | tr '\n\t' '| ')" >"$T/content"; return 1; }
		[ "$(printf 'body\r\n')" = "$(dk_body_of "$f")" ] ||
			{ echo "body is not just 'body'" >"$T/content"; return 1; }
		;;
	php)
		has_header "$f" Bcc && { echo "Bcc still there" >"$T/content"; return 1; }
		grep -qix 'rcpt_to: php-bcc@mx-pref.example' "$T/mail/mx1"/*.env ||
			{ echo "the Bcc recipient got nothing" >"$T/content"; return 1; }
		;;
	bare_cr)
		[ "$(printf 'body\r\nwith cr\r\nand\r\n\r\nend\r\n')" = "$(dk_body_of "$f")" ] ||
			{ echo "bare CR body: $(dk_body_of "$f" | od -c | head -n 3 | tr -s ' \n' ' ')" >"$T/content"; return 1; }
		;;
	multipart|large)
		[ "$(sed '1,/^$/d' "$T/in/$s" | md5sum)" = "$(dk_body_of "$f" | tr -d '\r' | md5sum)" ] ||
			{ echo "body changed" >"$T/content"; return 1; }
		;;
	esac
	return 0
}

# shapes_test CANON [CONFIG LINE...] - submit every shape, one queue run, check them all.
shapes_test() {
	local canon=$1
	shift
	dkim_env "$@"
	smtpd_start mx1 127.0.0.11:25 --tls || fail "start"
	shapes_submit
	queue_run
	shapes_check "$canon"
}

# dk_deliver_one SUBJECT [sendmail args] <MSG - submit, run the queue, print the stored file at mx1
# (the server must be started and the message must go to exactly one rcpt there).
dk_deliver_one() {
	local n
	n=$(mail_count mx1)
	submit "${@:2}"
	queue_run
	wait_mail mx1 $((n + 1)) 5 || fail "$1: not delivered"
	mail_file mx1 $((n + 1))
}

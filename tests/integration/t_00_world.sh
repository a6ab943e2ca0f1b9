# t_00_world.sh - self-tests of the world: DNS answers, certificates, every server behaviour (with
# swaks as the client) and the three DKIM verifiers. They must pass before any postern test means
# anything.

# dig_short ARGS - dig through /etc/resolv.conf (proves the bind mount), answers sorted on one line.
dig_short() { dig +short +time=1 +tries=1 "$@" | sort | tr '\n' ' ' | sed 's/ $//'; }

test_world_dns() {
	expect_eq "MX mx-pref" "10 mx1.mx-pref.example. 20 mx2.mx-pref.example." "$(dig_short MX mx-pref.example)"
	expect_eq "A mx1" "127.0.0.11" "$(dig_short A mx1.mx-pref.example)"
	expect_eq "A mx2" "127.0.0.12" "$(dig_short A mx2.mx-pref.example)"
	expect_eq "MX implicit" "" "$(dig_short MX implicit.example)"
	expect_eq "A implicit" "127.0.0.13" "$(dig_short A implicit.example)"
	expect_eq "MX nullmx" "0 ." "$(dig_short MX nullmx.example)"
	expect_eq "MX fallback" "10 bad.fallback.example. 20 mx1.mx-pref.example." "$(dig_short MX fallback.example)"
	expect_eq "A bad.fallback" "127.0.0.14" "$(dig_short A bad.fallback.example)"
	expect_eq "MX postern" "10 mx.postern.example." "$(dig_short MX postern.example)"
	expect_eq "A mx.postern" "127.0.0.15" "$(dig_short A mx.postern.example)"
	expect_eq "MX badcert" "10 mx.badcert.example." "$(dig_short MX badcert.example)"
	expect_eq "A smarthost" "127.0.0.20" "$(dig_short A smarthost.example)"
	expect_eq "SPF" '"v=spf1 ip4:127.0.0.1 -all"' "$(dig_short TXT postern.example)"
	expect_eq "DMARC" '"v=DMARC1; p=reject; adkim=s; aspf=s"' "$(dig_short TXT _dmarc.postern.example)"
	case $(dig_short TXT rsa2048._domainkey.postern.example) in
	'"v=DKIM1; k=rsa; p=MII'*) ;; *) fail "DKIM rsa2048 record: $(dig_short TXT rsa2048._domainkey.postern.example)" ;;
	esac
	case $(dig_short TXT ed25519._domainkey.postern.example) in
	'"v=DKIM1; k=ed25519; p='*) ;; *) fail "DKIM ed25519 record" ;;
	esac
	expect_eq "PTR 127.0.0.1" "mail.postern.example." "$(dig_short -x 127.0.0.1)"
	expect_eq "PTR 127.0.0.11" "mx1.mx-pref.example." "$(dig_short -x 127.0.0.11)"
	dig +time=1 +tries=1 A nxdomain.example | grep -q 'status: NXDOMAIN' || fail "nxdomain.example is not NXDOMAIN"
	dig +time=1 +tries=1 MX nxdomain.example | grep -q 'status: NXDOMAIN' || fail "MX nxdomain.example is not NXDOMAIN"
	# nothing leaves the namespace: no route out, and the world's DNS knows nothing else
	ip route get 192.0.2.1 >/dev/null 2>&1 && fail "a route leaves the namespace"
	expect_eq "outside name" "" "$(dig_short A deb.debian.org)"
	expect_eq "hostname" "mail.postern.example" "$(hostname)"
	getent passwd postern >/dev/null || fail "no postern user"
}

test_world_dns_add() {
	dns_add postern.example 'added._domainkey 300 TXT "v=DKIM1; k=rsa; p=added"' || fail "dns_add timed out"
	expect_eq "added TXT" '"v=DKIM1; k=rsa; p=added"' "$(dig_short TXT added._domainkey.postern.example)"
	expect_eq "old records still there" "127.0.0.15" "$(dig_short A mx.postern.example)"
}

test_world_pki() {
	local p=$WORK/pki c
	for c in server smarthost client; do
		openssl verify -CAfile "$p/ca/ca.pem" "$p/$c.pem" >/dev/null || fail "$c.pem does not verify"
	done
	openssl verify -CAfile "$p/ca/ca.pem" -verify_hostname mx1.mx-pref.example "$p/server.pem" >/dev/null ||
		fail "server.pem not valid for mx1.mx-pref.example"
	openssl verify -CAfile "$p/ca/ca.pem" -verify_hostname mx1.mx-pref.example "$p/server-wrongname.pem" \
		>/dev/null 2>&1 && fail "server-wrongname.pem valid for mx1.mx-pref.example"
	openssl verify -CAfile "$p/ca/ca.pem" "$p/server-untrusted.pem" >/dev/null 2>&1 &&
		fail "server-untrusted.pem verifies"
	openssl verify -CAfile "$p/ca/ca.pem" "$p/server-expired.pem" 2>&1 | grep -q 'certificate has expired' ||
		fail "server-expired.pem is not expired"
	openssl x509 -in "$p/client.pem" -noout -ext extendedKeyUsage | grep -q 'TLS Web Client' ||
		fail "client.pem lacks clientAuth"
}

# sw ARGS - swaks with the world's defaults; its transcript in $T/swaks.out.
sw() { swaks --timeout 5 --helo client.example "$@" >"$T/swaks.out" 2>&1; }
sw_has() { grep -q -- "$1" "$T/swaks.out" || fail "swaks transcript lacks '$1': $(tail -n 2 "$T/swaks.out" | tr '\n' ' ')"; }

test_world_smtp_exact() {
	smtpd_start mx1 127.0.0.11:25 --tls || fail "start"
	# a message with 8-bit bytes, leading dots, a long line, CRLF line ends; sent dot-stuffed
	printf 'From: a@postern.example\r\nTo: b@mx-pref.example\r\nSubject: exact\r\n\r\n.leading dot\r\n..two\r\ncaf\303\251 \377\r\n%s\r\n.\r\nend\r\n' \
		"$(head -c 990 /dev/zero | tr '\0' x)" >"$T/msg"
	sed -e 's/^\./../' "$T/msg" >"$T/wire"
	printf '.\r\n' >>"$T/wire"
	sw --server mx1.mx-pref.example --tls --tls-verify --tls-ca-path "$WORK/pki/ca/ca.pem" \
		-f a@postern.example -t b@mx-pref.example --no-data-fixup --data "$T/wire" || fail "swaks failed"
	sw_has "250-8BITMIME"
	sw_has "250-SMTPUTF8"
	sw_has "250-STARTTLS"
	expect_eq "count" 1 "$(mail_count mx1)"
	cmp -s "$T/msg" "$(mail_file mx1)" || fail "stored bytes differ from the sent message"
	expect_eq "mail_from" a@postern.example "$(env_get mx1 1 mail_from)"
	expect_eq "rcpt_to" b@mx-pref.example "$(env_get mx1 1 rcpt_to)"
	expect_eq "tls" yes "$(env_get mx1 1 tls)"
	expect_eq "peer_cert" no "$(env_get mx1 1 peer_cert)"
	expect_eq "helo" client.example "$(env_get mx1 1 helo)"
}

test_world_smtp_plain_and_null_sender() {
	smtpd_start mx2 127.0.0.12:25 --no-8bitmime --no-smtputf8 || fail "start"
	sw --server 127.0.0.12 -f '<>' -t a@mx-pref.example,b@mx-pref.example || fail "swaks failed"
	grep -q '8BITMIME\|SMTPUTF8\|STARTTLS' "$T/swaks.out" && fail "extensions advertised"
	expect_eq "mail_from" "<>" "$(env_get mx2 1 mail_from)"
	expect_eq "tls" no "$(env_get mx2 1 tls)"
	expect_eq "rcpts" "a@mx-pref.example b@mx-pref.example" "$(sed -n 's/^rcpt_to: //p' "$T/mail/mx2/1.env" | tr '\n' ' ' | sed 's/ $//')"
}

test_world_tls_bad_certs() {
	smtpd_start wrongname 127.0.0.16:25 --tls-as server-wrongname &&
		smtpd_start untrusted 127.0.0.16:26 --tls-as server-untrusted &&
		smtpd_start expired 127.0.0.16:27 --tls-as server-expired || fail "start"
	smtpd_start good 127.0.0.16:28 --tls || fail "start"
	tls_verified mx.badcert.example 28 starttls || fail "the good cert does not verify"
	grep -q 'Verify return code: 0 (ok)' "$T/s_client.out" || fail "s_client: not ok"
	local p
	for p in 25 26 27; do
		tls_verified mx.badcert.example $p starttls && fail "port $p: verified TLS succeeded"
		sw --server mx.badcert.example --port $p --tls -f a@postern.example -t b@badcert.example ||
			fail "port $p: unverified TLS failed"
	done
	expect_eq "stored" "1 1 1" "$(mail_count wrongname) $(mail_count untrusted) $(mail_count expired)"
	tls_verified mx.badcert.example 27 starttls; grep -q 'certificate has expired' "$T/s_client.out" ||
		fail "expired cert: no 'certificate has expired'"
	tls_verified mx.badcert.example 25 starttls; grep -q 'hostname mismatch' "$T/s_client.out" ||
		fail "wrong name: no 'hostname mismatch'"
}

test_world_client_cert() {
	smtpd_start mx1 127.0.0.11:25 --tls || fail "start"
	sw --server 127.0.0.11 --tls --tls-cert "$WORK/pki/client.pem" --tls-key "$WORK/pki/client.key" \
		-f a@postern.example -t b@mx-pref.example || fail "swaks failed"
	expect_eq "peer_cert" yes "$(env_get mx1 1 peer_cert)"
	expect_eq "subject" "commonName=mail.postern.example" "$(env_get mx1 1 peer_cert_subject)"
	[ -s "$T/mail/mx1/1.peer.pem" ] || fail "no peer.pem"
}

test_world_no_starttls() {
	smtpd_start mx1 127.0.0.11:25 --tls --no-starttls || fail "start"
	sw --server 127.0.0.11 --tls -f a@postern.example -t b@mx-pref.example && fail "STARTTLS worked"
	grep -q '^<-  250.STARTTLS' "$T/swaks.out" && fail "STARTTLS advertised"
	expect_eq "count" 0 "$(mail_count mx1)"
}

test_world_greet_421() {
	smtpd_start bad 127.0.0.14:25 --greet-421 || fail "start"
	sw --server 127.0.0.14 -f a@postern.example -t b@fallback.example && fail "swaks succeeded"
	sw_has "<\*\* 421"
}

test_world_stall() {
	smtpd_start bad 127.0.0.14:25 --stall || fail "start"
	local t0=$SECONDS
	sw --server 127.0.0.14 --timeout 2 -f a@postern.example -t b@fallback.example && fail "swaks succeeded"
	grep -q '^<.* 220' "$T/swaks.out" && fail "got a greeting"
	sw_has "Timeout"
	[ $((SECONDS - t0)) -ge 2 ] || fail "did not stall"
}

test_world_refuse() {
	sw --server 127.0.0.14 -f a@postern.example -t b@fallback.example && fail "swaks succeeded"
	sw_has "Connection refused"
}

test_world_rcpt_4xx() {
	smtpd_start mx1 127.0.0.11:25 --rcpt-4xx 2 || fail "start"
	sw --server 127.0.0.11 -f a@postern.example -t b@mx-pref.example && fail "1st accepted"
	sw_has "<\*\* 451"
	sw --server 127.0.0.11 -f a@postern.example -t b@mx-pref.example && fail "2nd accepted"
	sw --server 127.0.0.11 -f a@postern.example -t b@mx-pref.example || fail "3rd refused"
	expect_eq "count" 1 "$(mail_count mx1)"
}

test_world_rcpt_5xx() {
	smtpd_start mx1 127.0.0.11:25 --rcpt-5xx 'nobody@*' || fail "start"
	sw --server 127.0.0.11 -f a@postern.example -t NoBody@mx-pref.example && fail "nobody accepted"
	sw_has "<\*\* 550 5.1.1"
	sw --server 127.0.0.11 -f a@postern.example -t somebody@mx-pref.example || fail "somebody refused"
	expect_eq "count" 1 "$(mail_count mx1)"
}

test_world_drop_mid_data() {
	smtpd_start mx1 127.0.0.11:25 --drop-mid-data || fail "start"
	sw --server 127.0.0.11 -f a@postern.example -t b@mx-pref.example && fail "1st accepted"
	grep -q '^<-  250 2.0.0' "$T/swaks.out" && fail "1st got a reply to DATA"
	sw_has "354"
	expect_eq "count after drop" 0 "$(mail_count mx1)"
	sw --server 127.0.0.11 -f a@postern.example -t b@mx-pref.example || fail "2nd refused"
	expect_eq "count" 1 "$(mail_count mx1)"
}

test_world_smarthost() {
	smarthost_start || fail "start"
	local ca=$WORK/pki/ca/ca.pem
	sw --server smarthost.example --port 587 --tls --tls-verify --tls-ca-path "$ca" \
		-f a@postern.example -t x@elsewhere.example && fail "587 accepted without AUTH"
	sw_has "530 5.7.0"
	sw --server smarthost.example --port 587 -f a@postern.example -t x@elsewhere.example \
		--auth PLAIN --auth-user postern --auth-password s3cret && fail "587 AUTH without TLS"
	sw --server smarthost.example --port 587 --tls --tls-verify --tls-ca-path "$ca" \
		-f a@postern.example -t x@elsewhere.example --auth PLAIN --auth-user postern \
		--auth-password wrong && fail "587 wrong password accepted"
	sw --server smarthost.example --port 587 --tls --tls-verify --tls-ca-path "$ca" \
		-f a@postern.example -t x@elsewhere.example --auth PLAIN --auth-user postern \
		--auth-password s3cret || fail "587 AUTH PLAIN failed"
	sw --server smarthost.example --port 465 --tlsc --tls-verify --tls-ca-path "$ca" \
		-f a@postern.example -t y@elsewhere.example --auth LOGIN --auth-user postern \
		--auth-password s3cret || fail "465 AUTH LOGIN failed"
	expect_eq "587 count" 1 "$(mail_count smarthost587)"
	expect_eq "587 auth_user" postern "$(env_get smarthost587 1 auth_user)"
	expect_eq "587 tls_mode" starttls "$(env_get smarthost587 1 tls_mode)"
	expect_eq "465 count" 1 "$(mail_count smarthost465)"
	expect_eq "465 auth_user" postern "$(env_get smarthost465 1 auth_user)"
	expect_eq "465 tls_mode" implicit "$(env_get smarthost465 1 tls_mode)"
}

test_world_dkim_verifiers() {
	printf 'From: Alice <alice@postern.example>\r\nTo: bob@mx-pref.example\r\nSubject: dkim self-test\r\nDate: Mon, 1 Jan 2024 00:00:00 +0000\r\nMessage-ID: <self-test@postern.example>\r\n\r\nHello,\r\n\r\nthis is the body.\r\n' >"$T/plain"
	dkimpy_sign "$T/plain" "$T/rsa" rsa && dkimpy_sign "$T/plain" "$T/ed" ed25519 &&
		dkimpy_sign "$T/rsa" "$T/both" ed25519 || fail "dkim.sign failed"
	expect_eq "signatures in both" 2 "$(dkim_sig_count "$T/both")"
	local m v rc
	for m in rsa ed both; do
		for v in verify_dkimpy verify_opendkim verify_maildkim; do
			$v "$T/$m"
			rc=$?
			if [ $v = verify_maildkim ] && [ $m = ed ]; then
				expect_eq "Mail::DKIM on ed25519 alone (cannot judge)" 2 $rc
			else
				expect_eq "$v on the $m-signed message" 0 $rc
			fi
		done
		# one body byte changed: every verifier must fail
		sed 's/the body/the bodY/' "$T/$m" >"$T/$m.body"
		# one signed header byte changed
		sed 's/^Subject: dkim self-test/Subject: dkim self-tesT/' "$T/$m" >"$T/$m.hdr"
		for v in verify_dkimpy verify_opendkim verify_maildkim; do
			$v "$T/$m.body" && fail "$v accepts the $m-signed message with a changed body"
			$v "$T/$m.hdr" && fail "$v accepts the $m-signed message with a changed Subject"
		done
	done
	# every signature must pass: break one of the two (field 1 = ed25519, field 2 = rsa)
	break_sig "$T/both" 1 >"$T/both.1" && break_sig "$T/both" 2 >"$T/both.2" || fail "break_sig"
	cmp -s "$T/both" "$T/both.1" && fail "could not break signature 1"
	for v in verify_dkimpy verify_opendkim verify_maildkim; do
		# Mail::DKIM cannot see a broken ed25519 signature (it skips ed25519)
		[ $v = verify_maildkim ] || ! $v "$T/both.1" || fail "$v accepts a bad ed25519 signature beside a good rsa one"
		$v "$T/both.2" && fail "$v accepts a bad rsa signature beside a good ed25519 one"
		$v "$T/plain" && fail "$v accepts an unsigned message"
	done
	return 0
}

# break_sig FILE N - FILE with the first character of the N-th DKIM-Signature's b= value changed.
break_sig() {
	perl -0777 -pe 'my $n = 0; s/(;\s*b=)(.)/++$n == '"$2"' ? $1 . ($2 eq "A" ? "B" : "A") : "$1$2"/gse' "$1"
}

# the helpers postern's tests judge with, on a message that passes them and ones that must not
test_world_postern_helpers() {
	smtpd_start mx1 127.0.0.11:25 --tls || fail "start"
	printf 'Received: from localhost by mail.postern.example; Mon, 1 Jan 2024 00:00:00 +0000\r\nFrom: a@postern.example\r\nTo: b@mx-pref.example\r\nSubject: helpers\r\nDate: Mon, 1 Jan 2024 00:00:00 +0000\r\nMessage-ID: <h1@postern.example>\r\n\r\nbody\r\n' >"$T/plain"
	dkimpy_sign "$T/plain" "$T/rsa" rsa && dkimpy_sign "$T/rsa" "$T/both" ed25519 || fail "sign"
	printf '.\r\n' | cat "$T/both" - >"$T/wire"
	sw --server 127.0.0.11 --tls -f a@postern.example -t b@mx-pref.example,c@mx-pref.example \
		--no-data-fixup --data "$T/wire" || fail "swaks"
	local f
	f=$(mail_file mx1)
	( expect_completed "$f" ) || fail "expect_completed rejects a complete message: $(cat "$T/reason")"
	( expect_dkim "$f" ) || fail "expect_dkim rejects a signed message: $(cat "$T/reason")"
	expect_eq "all_rcpts" "b@mx-pref.example c@mx-pref.example" "$(all_rcpts mx1)"
	expect_eq "header Subject" helpers "$(header "$f" subject)"
	expect_eq "folded DKIM-Signature unfolds" 1 "$(header "$f" DKIM-Signature | grep -c 'a=ed25519-sha256;.*b=')"
	printf 'Bcc: x@y\r\n' | cat - "$f" >"$T/bcc"
	( expect_completed "$T/bcc" ) && fail "expect_completed accepts a Bcc"
	sed '/^Message-ID/d' "$f" >"$T/nomid"
	( expect_completed "$T/nomid" ) && fail "expect_completed accepts a missing Message-ID"
	( expect_dkim "$T/rsa" ) && fail "expect_dkim accepts one signature"
	rm -f "$T/reason"
	return 0
}

# ------------------------------------------------------------------- faultsmtpd.py (FAULTSMTPD.md)

# raw_smtp IP:PORT SECONDS <INPUT - connect, write all of INPUT in ONE write (pipelined, before even
# the greeting), print the replies as they come (CR removed), then "<<EOF" (the server closed),
# "<<RESET" or "<<TIMEOUT" (SECONDS without a byte: the server holds the connection, silent).
raw_smtp() {
	"$PY" -c '
import socket, sys
host, port = sys.argv[1].rsplit(":", 1)
s = socket.create_connection((host, int(port)), timeout=5)
s.sendall(sys.stdin.buffer.read())
s.settimeout(float(sys.argv[2]))
end = "EOF"
try:
    while True:
        b = s.recv(65536)
        if not b:
            break
        sys.stdout.write(b.decode("utf-8", "replace").replace("\r", ""))
        sys.stdout.flush()
except socket.timeout:
    end = "TIMEOUT"
except ConnectionResetError:
    end = "RESET"
print("<<" + end)
' "$@"
}

# codes FILE - the reply codes in a raw_smtp transcript, one line: "220 250 ... <<EOF".
codes() { sed -e 's/^\([0-9][0-9][0-9]\).*/\1/' -e 's/^\(<<[A-Z]*\).*/\1/' "$1" | tr '\n' ' ' | sed 's/ $//'; }

# one transaction for raw_smtp: MAIL, RCPT, DATA, a message with Message-ID <$1@postern.example>, dot
raw_tx() {
	printf 'MAIL FROM:<a@postern.example>\r\nRCPT TO:<b@mx-pref.example>\r\nDATA\r\n'
	printf 'Message-ID: <%s@postern.example>\r\nSubject: %s\r\n\r\nbody\r\n.\r\n' "$1" "$1"
}

EHLO_CODES="220 250 250 250 250 250 250"	# the greeting and EHLO's six lines

test_world_faultsmtpd_plain() {
	faultsmtpd_start f 127.0.0.11:25 || fail "start"
	expect_eq "no probe connection" 0 "$(wc -l <"$T/mail/f/connections")"
	printf 'From: a@postern.example\r\nTo: b@mx-pref.example\r\nMessage-ID:\r\n <fold@postern.example>\r\nSubject: plain\r\n\r\n.leading dot\r\n..two\r\ncaf\303\251 \377\r\nend\r\n' >"$T/msg"
	sed -e 's/^\./../' "$T/msg" >"$T/wire"
	printf '.\r\n' >>"$T/wire"
	sw --server 127.0.0.11 -f a@postern.example -t b@mx-pref.example,c@mx-pref.example \
		--no-data-fixup --data "$T/wire" || fail "swaks failed"
	local e
	for e in PIPELINING 8BITMIME SMTPUTF8 ENHANCEDSTATUSCODES SIZE; do sw_has "<-  250.$e"; done
	wait_mail f 1 1 || fail "wait_mail"
	expect_eq "count" 1 "$(mail_count f)"
	cmp -s "$T/msg" "$(mail_file f)" || fail "stored bytes differ from the sent message"
	expect_eq "mail_from" a@postern.example "$(env_get f 1 mail_from)"
	expect_eq "rcpt_to" "b@mx-pref.example c@mx-pref.example" "$(sed -n 's/^rcpt_to: //p' "$T/mail/f/1.env" | tr '\n' ' ' | sed 's/ $//')"
	expect_eq "helo" client.example "$(env_get f 1 helo)"
	expect_eq "peer" 127.0.0.1 "$(env_get f 1 peer)"
	expect_eq "tls" no "$(env_get f 1 tls)"
	expect_eq "ids" "$(printf '<fold@postern.example>\tb@mx-pref.example,c@mx-pref.example')" "$(cat "$T/mail/f/ids")"
	sw --server 127.0.0.11 -f '<>' -t d@mx-pref.example || fail "null sender refused"
	expect_eq "null sender" "<>" "$(env_get f 2 mail_from)"
	expect_eq "ids_count" 2 "$(ids_count f)"
	expect_eq "ids_dups" 0 "$(ids_dups f)"
	expect_eq "connections" 2 "$(wc -l <"$T/mail/f/connections")"
}

# everything in one write: two transactions and QUIT; replies in order, both messages stored
test_world_faultsmtpd_pipelined() {
	faultsmtpd_start f 127.0.0.11:25 || fail "start"
	{
		printf 'EHLO client.example\r\nMAIL FROM:<a@postern.example> BODY=8BITMIME\r\nRCPT TO:<b@mx-pref.example>\r\nDATA\r\n'
		printf 'Message-ID: <p1@postern.example>\r\n\r\n..one\r\n.\r\n'
		printf 'MAIL FROM:<a@postern.example>\r\nRCPT TO:<c@mx-pref.example>\r\nRCPT TO:<d@mx-pref.example>\r\nDATA\r\n'
		printf 'Message-ID: <p2@postern.example>\r\n\r\ntwo\r\n.\r\nQUIT\r\n'
	} | raw_smtp 127.0.0.11:25 10 >"$T/raw.out"
	expect_eq "replies" "$EHLO_CODES 250 250 354 250 250 250 250 354 250 221 <<EOF" "$(codes "$T/raw.out")"
	grep -q '^250 2.0.0 OK stored as 2$' "$T/raw.out" || fail "no 'stored as 2'"
	expect_eq "count" 2 "$(mail_count f)"
	expect_eq "1.eml" "$(printf 'Message-ID: <p1@postern.example>\r\n\r\n.one\r\n')" "$(cat "$(mail_file f 1)")"
	expect_eq "mail_options" BODY=8BITMIME "$(env_get f 1 mail_options)"
	expect_eq "ids" "$(printf '<p1@postern.example>\tb@mx-pref.example\n<p2@postern.example>\tc@mx-pref.example,d@mx-pref.example')" "$(cat "$T/mail/f/ids")"
	expect_eq "connections" 1 "$(wc -l <"$T/mail/f/connections")"
}

# --stall-dot 2: the 2nd DATA's dot is never answered, the connection stays open; others go on
test_world_faultsmtpd_stall_dot() {
	faultsmtpd_start f 127.0.0.11:25 --stall-dot 2 || fail "start"
	{ printf 'EHLO client.example\r\n'; raw_tx m1; printf 'QUIT\r\n'; } | raw_smtp 127.0.0.11:25 10 >"$T/raw1.out"
	expect_eq "1st" "$EHLO_CODES 250 250 354 250 221 <<EOF" "$(codes "$T/raw1.out")"
	{ printf 'EHLO client.example\r\n'; raw_tx m2; printf 'QUIT\r\n'; } | raw_smtp 127.0.0.11:25 3 >"$T/raw2.out" &
	local pid=$!
	wait_for 5 grep -q '^354' "$T/raw2.out" || fail "2nd: no 354"
	{ printf 'EHLO client.example\r\n'; raw_tx m3; printf 'QUIT\r\n'; } | raw_smtp 127.0.0.11:25 10 >"$T/raw3.out"
	expect_eq "3rd, during the stall" "$EHLO_CODES 250 250 354 250 221 <<EOF" "$(codes "$T/raw3.out")"
	wait "$pid"
	# no reply to the dot nor to the QUIT after it, and no close: the client timed out
	expect_eq "2nd" "$EHLO_CODES 250 250 354 <<TIMEOUT" "$(codes "$T/raw2.out")"
	expect_eq "stored" "<m1@postern.example> <m3@postern.example>" "$(cut -f1 "$T/mail/f/ids" | tr '\n' ' ' | sed 's/ $//')"
	expect_eq "count" 2 "$(mail_count f)"
	grep -q 'stall: DATA 2' "$T/log/f.log" || fail "no stall in the log"
}

# send_n SERVER N - N messages (Message-ID <iI@postern.example>), one swaks each; prints one letter
# per message: s (the dot got 250) or d (354, then the connection ended without a reply).
send_n() {
	local i
	for i in $(seq 1 "$2"); do
		if sw --server "$1" --header "Message-Id: <i$i@postern.example>" -f a@postern.example \
			-t b@mx-pref.example; then
			printf s
		elif grep -q '^<-  354' "$T/swaks.out" &&
			! sed -n '/^<-  354/,$p' "$T/swaks.out" | tail -n +2 | grep -q '^<'; then
			printf d
		else
			printf '?'
		fi
	done
}

# --drop-data P: a reproducible share of the DATA transfers is cut after 354, nothing stored
test_world_faultsmtpd_drop_data() {
	faultsmtpd_start a 127.0.0.11:25 --drop-data 0.5 --seed 7 &&
		faultsmtpd_start b 127.0.0.12:25 --drop-data 0.5 --seed 7 &&
		faultsmtpd_start c 127.0.0.13:25 --drop-data 0.5 --seed 8 || fail "start"
	local pa pb pc
	pa=$(send_n 127.0.0.11 12) pb=$(send_n 127.0.0.12 12) pc=$(send_n 127.0.0.13 12)
	echo "patterns: $pa $pb $pc"
	case $pa$pc in *'?'*) fail "a transcript is neither stored nor dropped: $pa $pc" ;; esac
	expect_eq "same seed, same drops" "$pa" "$pb"
	[ "$pa" != "$pc" ] || fail "another seed gives the same drops: $pa"
	local drops=${pa//s/}
	[ ${#drops} -ge 2 ] && [ ${#drops} -le 10 ] || fail "seed 7 dropped ${#drops} of 12 at P=0.5"
	expect_eq "stored = not dropped" $((12 - ${#drops})) "$(mail_count a)"
	expect_eq "ids = not dropped" $((12 - ${#drops})) "$(ids_count a)"
	expect_eq "which were stored" "$(for i in $(seq 1 12); do [ "${pa:i-1:1}" = s ] && echo "<i$i@postern.example>"; done)" \
		"$(cut -f1 "$T/mail/a/ids")"
	grep -q '^drop: DATA' "$T/log/a.log" || fail "no drop in the log"
}

# --reply STEP=CODE[ TEXT] for each step; the server acts on the reply it gave
test_world_faultsmtpd_reply() {
	local h='EHLO client.example\r\n' m='MAIL FROM:<a@postern.example>\r\n' r='RCPT TO:<b@mx-pref.example>\r\n'
	faultsmtpd_start greet 127.0.0.11:2501 --reply greeting=554 &&
		faultsmtpd_start ehlo 127.0.0.11:2502 --reply ehlo=334 &&
		faultsmtpd_start mail 127.0.0.11:2503 --reply 'mail=451 4.3.0 busy' &&
		faultsmtpd_start rcpt 127.0.0.11:2504 --reply rcpt=354 &&
		faultsmtpd_start data 127.0.0.11:2505 --reply data=250 &&
		faultsmtpd_start dot 127.0.0.11:2506 --reply dot=354 &&
		faultsmtpd_start dot250 127.0.0.11:2507 --reply 'dot=250 2.0.0 custom' || fail "start"
	printf "${h}QUIT\r\n" | raw_smtp 127.0.0.11:2501 10 >"$T/greet.out"
	expect_eq "greeting" "554 fault reply (faultsmtpd)" "$(head -n 1 "$T/greet.out")"
	{ printf "$h"; raw_tx e1; printf 'QUIT\r\n'; } | raw_smtp 127.0.0.11:2502 10 >"$T/ehlo.out"
	expect_eq "ehlo=334" "220 334 250 250 354 250 221 <<EOF" "$(codes "$T/ehlo.out")"
	expect_eq "ehlo=334 stored" 1 "$(mail_count ehlo)"
	printf "$h$m${r}DATA\r\nQUIT\r\n" | raw_smtp 127.0.0.11:2503 10 >"$T/mail.out"
	expect_eq "mail=451" "$EHLO_CODES 451 503 503 221 <<EOF" "$(codes "$T/mail.out")"
	grep -q '^451 4.3.0 busy$' "$T/mail.out" || fail "mail=451: not the given text"
	printf "$h$m${r}DATA\r\nQUIT\r\n" | raw_smtp 127.0.0.11:2504 10 >"$T/rcpt.out"
	expect_eq "rcpt=354" "$EHLO_CODES 250 354 503 221 <<EOF" "$(codes "$T/rcpt.out")"
	# data=250: the message's 5 lines (2 header fields, empty line, body, dot) are read as commands
	{ printf "$h"; raw_tx d1; printf 'QUIT\r\n'; } | raw_smtp 127.0.0.11:2505 10 >"$T/data.out"
	expect_eq "data=250" "$EHLO_CODES 250 250 250 500 500 500 500 500 221 <<EOF" "$(codes "$T/data.out")"
	{ printf "$h"; raw_tx t1; raw_tx t2; printf 'QUIT\r\n'; } | raw_smtp 127.0.0.11:2506 10 >"$T/dot.out"
	expect_eq "dot=354" "$EHLO_CODES 250 250 354 354 250 250 354 354 221 <<EOF" "$(codes "$T/dot.out")"
	{ printf "$h"; raw_tx c1; printf 'QUIT\r\n'; } | raw_smtp 127.0.0.11:2507 10 >"$T/dot250.out"
	grep -q '^250 2.0.0 custom$' "$T/dot250.out" || fail "dot=250 TEXT: not the given text"
	local n
	for n in greet mail rcpt data dot; do expect_eq "$n: stored" 0 "$(ids_count $n)"; done
	expect_eq "dot=250: stored" "1 1" "$(mail_count dot250) $(ids_count dot250)"
	"$PY" "$HERE/faultsmtpd.py" --listen 127.0.0.11:2508 --maildir "$T/bad" --reply helo=250 \
		2>"$T/bad.err" && fail "--reply helo=250 accepted"
	grep -q 'STEP=CODE' "$T/bad.err" || fail "no usage line for a bad --reply"
}

# --drip S: every reply comes S seconds late (7 replies for one message with swaks)
test_world_faultsmtpd_drip() {
	faultsmtpd_start f 127.0.0.11:25 --drip 0.4 || fail "start"
	local t0=$EPOCHREALTIME ms
	sw --server 127.0.0.11 -f a@postern.example -t b@mx-pref.example || fail "swaks failed"
	ms=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%d", (b - a) * 1000 }')
	echo "7 replies took $ms ms"
	[ "$ms" -ge 2700 ] || fail "7 replies at --drip 0.4 took only $ms ms"
	expect_eq "stored" 1 "$(mail_count f)"
}

# --fast: no .eml/.env, only ids; a Message-ID sent twice counts as one extra delivery
test_world_faultsmtpd_fast() {
	faultsmtpd_start f 127.0.0.11:25 --fast || fail "start"
	local id
	for id in one two one; do
		sw --server 127.0.0.11 --header "Message-Id: <$id@postern.example>" -f a@postern.example \
			-t b@mx-pref.example || fail "swaks $id failed"
	done
	# (peak: the most connections open at once, see faultsmtpd.py)
	expect_eq "files" "connections ids peak" "$(ls "$T/mail/f" | tr '\n' ' ' | sed 's/ $//')"
	expect_eq "ids_count" 3 "$(ids_count f)"
	expect_eq "ids_dups" 1 "$(ids_dups f)"
	expect_eq "uniq -d" "<one@postern.example>" "$(cut -f1 "$T/mail/f/ids" | sort | uniq -d)"
	expect_eq "mail_count" 0 "$(mail_count f)"
}

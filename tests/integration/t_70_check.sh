# t_70_check.sh - `postern check` against the world's DNS: what a self-hoster gets right and wrong.

test_check_all_good() {
	postern_env
	ln -sf "$BIN" "$T/bin/postern"
	"$T/bin/postern" -C "$CONF" check >"$T/out" 2>"$T/err"
	local rc=$?
	cat "$T/out" >&2
	expect_eq "exit status" 0 "$rc"
	grep -q '^ok    a        mail.postern.example: has address 127.0.0.1' "$T/out" || fail "A: $(cat "$T/out")"
	grep -q '^ok    ptr      127.0.0.1: PTR is mail.postern.example' "$T/out" || fail "rDNS: $(cat "$T/out")"
	grep -q '^ok    spf      postern.example: .*authorizes this host' "$T/out" || fail "SPF"
	grep -q '^ok    dkim     rsa2048._domainkey.postern.example: matches' "$T/out" || fail "DKIM rsa"
	grep -q '^ok    dkim     ed25519._domainkey.postern.example: matches' "$T/out" || fail "DKIM ed25519"
	grep -q '^ok    dmarc    _dmarc.postern.example: ' "$T/out" || fail "DMARC"
	grep -q '^ok    mx       postern.example: MX mx.postern.example' "$T/out" || fail "MX"
	grep -q ' 0 failures, 0 not checked$' "$T/out" || fail "summary: $(tail -n 1 "$T/out")"
}

test_check_finds_mistakes() {
	postern_env "dkim postern.example wrongsel $WORK/keys/dkim-rsa.pem"
	ln -sf "$BIN" "$T/bin/postern"
	# a record for the selector, but of another key (the usual paste mistake: the wrong file)
	openssl genpkey -algorithm ed25519 -out "$T/other.pem" 2>/dev/null
	dns_add postern.example "wrongsel._domainkey 300 TXT \"v=DKIM1; k=ed25519; p=$(openssl pkey -in "$T/other.pem" -pubout -outform DER | tail -c 32 | base64)\""
	# mail.postern.example is right; send as a host with no PTR and a domain with no SPF or DMARC
	dns_add postern.example "nospf 300 MX 10 mx.postern.example."
	dns_add postern.example "bare 300 A 127.0.0.99"
	printf 'hostname bare.postern.example\n' >>"$CONF"
	sed -i 's/^hostname mail.postern.example$//; s/^domain postern.example$/domain nospf.postern.example/' "$CONF"
	"$T/bin/postern" -C "$CONF" check >"$T/out" 2>"$T/err"
	local rc=$?
	cat "$T/out" >&2
	expect_eq "exit status" 1 "$rc"
	grep -q '^FAIL  ptr      127.0.0.99: no PTR record' "$T/out" || fail "rDNS not caught"
	grep -q '^FAIL  spf      nospf.postern.example: no SPF record' "$T/out" || fail "SPF not caught"
	grep -q '^warn  dmarc    _dmarc.nospf.postern.example: no DMARC record' "$T/out" || fail "DMARC not caught"
	grep -q '^FAIL  dkim     nospf.postern.example: no dkim key configured' "$T/out" || fail "DKIM not caught"
	# and for the real domain: the wrong selector record is named, with the record to publish
	"$T/bin/postern" -C "$CONF" check postern.example >"$T/out2" 2>&1
	cat "$T/out2" >&2
	grep -q '^FAIL  dkim     wrongsel._domainkey.postern.example: does not match' "$T/out2" || fail "mismatched DKIM record not caught"
	grep -q '^ok    dkim     rsa2048._domainkey.postern.example: matches' "$T/out2" || fail "good key reported bad"
}

test_check_escapes_dns_text() {	# TXT records and names from DNS reach the terminal escaped
	postern_env
	ln -sf "$BIN" "$T/bin/postern"
	# ESC [ 2 J (clear screen) and a bell inside an SPF record; \027 and \007 are decimal in zone files
	dns_add postern.example 'esc 300 TXT "v=spf1 \027[2J\007 -all"'
	dns_add postern.example 'esc 300 MX 10 mx.postern.example.'
	dns_add postern.example '_dmarc.esc 300 TXT "v=DMARC1; p=none; \027]0;pwned\007"'
	"$T/bin/postern" -C "$CONF" check 'esc.postern.example' >"$T/chk.out" 2>"$T/chk.err"
	cat "$T/chk.out" >&2
	LC_ALL=C grep -q "$(printf '[\001-\010\013-\037\177]')" "$T/chk.out" && fail "control bytes in the output: $(od -c "$T/chk.out" | grep -m1 '033')"
	grep -qF 'v=spf1 \033[2J\a -all' "$T/chk.out" || grep -qF 'v=spf1 \033[2J\007 -all' "$T/chk.out" || fail "SPF line: $(grep spf "$T/chk.out")"
	grep -qF '\033]0;pwned' "$T/chk.out" || fail "DMARC line: $(grep dmarc "$T/chk.out")"
	"$T/bin/postern" -C "$CONF" check "$(printf 'x\033[2Jy.example')" >"$T/chk.out" 2>"$T/chk.err"
	LC_ALL=C grep -q "$(printf '\033')" "$T/chk.out" && fail "the caller's domain printed raw"
	return 0
}

test_check_client_cert() {	# a client certificate without its key: FAIL, and mail goes out without it
	postern_env "tls_cert $WORK/pki/client.chain.pem" "tls_key $T/missing.key"
	ln -sf "$BIN" "$T/bin/postern"
	"$T/bin/postern" -C "$CONF" check >"$T/chk.out" 2>"$T/chk.err"
	expect_eq "exit status" 1 "$?"
	grep -q "^FAIL  tls      $T/missing.key: $T/missing.key: No such file or directory; fix: mail goes out without a client certificate" "$T/chk.out" ||
		fail "TLS: $(grep tls "$T/chk.out")"
	sed -i "s|^tls_key .*|tls_key $WORK/pki/client.key|" "$CONF"
	"$T/bin/postern" -C "$CONF" check >"$T/chk.out" 2>"$T/chk.err"
	grep -q "^ok    tls      .*: is valid, names mail.postern.example and matches its key" "$T/chk.out" ||
		fail "TLS: $(grep tls "$T/chk.out")"
}

test_check_interface() {	# options are options, never a domain; --json is one object; exit 75 for "could not check"
	postern_env
	ln -sf "$BIN" "$T/bin/postern"
	"$T/bin/postern" -C "$CONF" check --jsno >"$T/chk.out" 2>"$T/chk.err"
	expect_eq "unknown option" 64 "$?"
	grep -q 'unknown option "--jsno"' "$T/chk.err" || fail "stderr: $(cat "$T/chk.err")"
	"$T/bin/postern" -C "$CONF" check --only spff >"$T/chk.out" 2>"$T/chk.err"
	expect_eq "unknown check" 64 "$?"
	"$T/bin/postern" -C "$CONF" check --json --only dkim,mx >"$T/chk.out" 2>"$T/chk.err"
	expect_eq "exit status" 0 "$?"
	python3 -c '
import json, sys
o = json.load(open(sys.argv[1]))
assert o["hostname"] == "mail.postern.example" and o["domain"] == "postern.example", o
ids = sorted(set(c["id"] for c in o["checks"]))
assert ids == ["dkim", "mx"], ids
assert all(c["status"] == "ok" and set(c) == {"id", "subject", "status", "seen", "fix"} for c in o["checks"]), o
' "$T/chk.out" || fail "json: $(cat "$T/chk.out")"
	# DNS that does not answer: nothing is judged missing, all is "could not check"
	sed -i 's/^resolver .*/resolver 127.0.0.254/' "$CONF"
	timeout 60 "$T/bin/postern" -C "$CONF" check --only mx,spf,dmarc >"$T/chk.out" 2>"$T/chk.err"
	local rc=$?
	cat "$T/chk.out" >&2
	expect_eq "exit status without DNS" 75 "$rc"
	grep -q '^FAIL\|^warn\|publish' "$T/chk.out" && fail "advice without an answer: $(cat "$T/chk.out")"
	return 0
}

# t_70_check.sh - `postern check` against the world's DNS: what a self-hoster gets right and wrong.

test_check_all_good() {
	postern_env
	ln -sf "$BIN" "$T/bin/postern"
	"$T/bin/postern" -C "$CONF" check >"$T/out" 2>"$T/err"
	local rc=$?
	cat "$T/out" >&2
	expect_eq "exit status" 0 "$rc"
	grep -q '^ok    A      mail.postern.example has address 127.0.0.1' "$T/out" || fail "A: $(cat "$T/out")"
	grep -q '^ok    rDNS   PTR of 127.0.0.1 is mail.postern.example' "$T/out" || fail "rDNS: $(cat "$T/out")"
	grep -q '^ok    SPF    .*authorizes this host' "$T/out" || fail "SPF"
	grep -q '^ok    DKIM   rsa2048._domainkey.postern.example matches' "$T/out" || fail "DKIM rsa"
	grep -q '^ok    DKIM   ed25519._domainkey.postern.example matches' "$T/out" || fail "DKIM ed25519"
	grep -q '^ok    DMARC  _dmarc.postern.example' "$T/out" || fail "DMARC"
	grep -q '^ok    MX     postern.example has MX mx.postern.example' "$T/out" || fail "MX"
	grep -q ' 0 failures$' "$T/out" || fail "summary: $(tail -n 1 "$T/out")"
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
	grep -q '^FAIL  rDNS   127.0.0.99 has no PTR record' "$T/out" || fail "rDNS not caught"
	grep -q '^FAIL  SPF    nospf.postern.example has no SPF record' "$T/out" || fail "SPF not caught"
	grep -q '^warn  DMARC  no DMARC record at _dmarc.nospf.postern.example' "$T/out" || fail "DMARC not caught"
	grep -q '^FAIL  DKIM   no dkim key configured for nospf.postern.example' "$T/out" || fail "DKIM not caught"
	# and for the real domain: the wrong selector record is named, with the record to publish
	"$T/bin/postern" -C "$CONF" check postern.example >"$T/out2" 2>&1
	cat "$T/out2" >&2
	grep -q '^FAIL  DKIM   wrongsel._domainkey.postern.example does not match' "$T/out2" || fail "mismatched DKIM record not caught"
	grep -q '^ok    DKIM   rsa2048._domainkey.postern.example matches' "$T/out2" || fail "good key reported bad"
}

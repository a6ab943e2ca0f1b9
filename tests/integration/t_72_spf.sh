# t_72_spf.sh - `postern spf IP SENDER [HELO]` against the world's DNS (NSD): the result word and
# the explanation, IPv4 and IPv6 (AAAA over real DNS), exit 0 whatever the result. The RFC 7208
# suite itself runs at unit level (tests/unit/test_spf_suite.c).

test_spf_command() {
	postern_env
	ln -sf "$BIN" "$T/bin/postern"
	dns_add postern.example 'spf72 300 TXT "v=spf1 a:mail.postern.example a:v6.spf72.postern.example ~all"'
	dns_add postern.example 'v6.spf72 300 AAAA 2001:db8::72'
	dns_add postern.example 'spf72x 300 TXT "v=spf1 -all exp=why.spf72x.postern.example"'
	dns_add postern.example 'why.spf72x 300 TXT "%{i} may not send for %{d}"'
	local rc ip want
	while read -r ip sender want; do
		"$T/bin/postern" -C "$CONF" spf "$ip" "$sender" helo.example >"$T/out" 2>"$T/err"
		rc=$?
		expect_eq "exit status for $ip $sender" 0 "$rc"
		grep -qx "$want" "$T/out" || fail "$ip $sender: got '$(cat "$T/out" "$T/err")', want '$want'"
	done <<-'END'
		127.0.0.1 a@spf72.postern.example pass matched a in the record of spf72.postern.example
		127.0.0.2 a@spf72.postern.example softfail matched all in the record of spf72.postern.example
		2001:db8::72 a@spf72.postern.example pass matched a in the record of spf72.postern.example
		2001:db8::73 a@spf72.postern.example softfail matched all in the record of spf72.postern.example
		127.0.0.1 a@spf72x.postern.example fail 127.0.0.1 may not send for spf72x.postern.example
		127.0.0.1 a@nospf72.postern.example none no SPF record at nospf72.postern.example
	END
	"$T/bin/postern" -C "$CONF" spf 127.0.0.1 >"$T/out" 2>"$T/err"
	expect_eq "exit status without a sender" 64 "$?"
	grep -q '^usage: postern spf IP SENDER \[HELO\]$' "$T/err" || fail "usage: $(cat "$T/err")"
}

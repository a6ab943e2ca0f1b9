# t_52_identity.sh - what postern calls itself (issue 11, Identity): never a made-up name, and its own
# notices (bounces, delay warnings) From the configured domain and signed by it, so that they pass a
# strict DMARC policy. Helpers: id_.

# id_as NAME CMD... - run CMD with the UTS host name NAME (a private UTS namespace: the world's own
# stays mail.postern.example); stdout/stderr in $T/id.out/.err. Returns CMD's status.
id_as() {
	local name=$1
	shift
	unshare --uts sh -c 'hostname "$0" && exec "$@"' "$name" "$@" >"$T/id.out" 2>"$T/id.err"
}

# id_want_78 WHAT - the last id_as exited 78 with the one line naming hostname, and nothing queued.
id_want_78() {
	local rc=$1 what=$2
	expect_eq "$what: exit status" 78 "$rc"
	expect_eq "$what: stderr lines" 1 "$(wc -l <"$T/id.err" | tr -d ' ')"
	grep -q "hostname: not set, and the system's name \"vm\" is not fully qualified: set hostname" "$T/id.err" ||
		fail "$what: stderr does not name the key: $(cat "$T/id.err")"
	[ -z "$(ls "$SPOOL/new")" ] || fail "$what: a message was queued"
}

test_identity_no_fqdn() {	# no hostname key, system name vm: the front door and the runner refuse (78)
	postern_env
	sed -i '/^hostname /d' "$CONF"
	local rc
	msg a@postern.example u@mx-pref.example noname >"$T/msg"
	id_as vm "$T/bin/sendmail" -C "$CONF" -t -i <"$T/msg"
	rc=$?
	id_want_78 "$rc" "front door"
	id_as vm "$T/bin/sendmail" -C "$CONF" -q </dev/null
	rc=$?
	id_want_78 "$rc" "runner"
	id_as vm "$T/bin/sendmail" -C "$CONF" -bs </dev/null
	rc=$?
	id_want_78 "$rc" "-bs"
	# what only reads or reports still works, and says what is wrong
	mkdir -p "$T/bin" && ln -sf "$BIN" "$T/bin/postern"
	id_as vm "$T/bin/postern" -C "$CONF" config hostname
	expect_eq "postern config on vm: exit status" 0 "$?"
	expect_eq "postern config hostname" vm "$(cat "$T/id.out")"
	grep -q "warning: .*hostname: not set, and the system's name \"vm\" is not fully qualified" "$T/id.err" ||
		fail "postern config does not warn: $(cat "$T/id.err")"
	id_as vm "$T/bin/postern" -C "$CONF" dkim-keygen postern.example s1 --out "$T/s1.key"
	expect_eq "dkim-keygen on vm: exit status" 0 "$?"
	# `hostname localhost` is refused the same way, with the key named
	printf 'hostname localhost\n' >>"$CONF"
	id_as mail.postern.example "$T/bin/sendmail" -C "$CONF" -t -i <"$T/msg"
	rc=$?
	expect_eq "hostname localhost: exit status" 78 "$rc"
	grep -q 'hostname: not a fully qualified name' "$T/id.err" || fail "localhost: $(cat "$T/id.err")"
	sed -i '/^hostname /d' "$CONF"
	# the control: the same config on a host with a fully qualified name takes the message
	id_as mail.postern.example "$T/bin/sendmail" -C "$CONF" -t -i <"$T/msg" ||
		fail "with a fully qualified system name: exit $?: $(cat "$T/id.err")"
	expect_eq "queued" 1 "$(ls "$SPOOL/new" | wc -l | tr -d ' ')"
}

# id_install NAME - `make install`'s script into $T/dest (DESTDIR) with the UTS host name NAME.
id_install() {
	rm -rf "$T/dest"
	id_as "$1" sh "$HERE/../../conf/install.sh" "$BUILD" "$T/dest" /usr/sbin /etc /var/spool/postern \
		/usr/share/man /usr/lib/postern /usr/bin || fail "install as $1 exited $?: $(cat "$T/id.err")"
}

test_identity_install() {	# a new postern.conf gets hostname from the machine's FQDN, or the user is told
	id_install Mail.Postern.Example
	expect_eq "hostname written" "hostname        mail.postern.example" \
		"$(grep '^hostname' "$T/dest/etc/postern/postern.conf")"
	grep -q "hostname mail.postern.example (this machine's fully qualified name)" "$T/id.out" ||
		fail "not told: $(cat "$T/id.out")"
	# the file it wrote is one postern accepts without a system name to fall back on
	printf 'spool %s\n' "$T/dest/var/spool/postern" >>"$T/dest/etc/postern/postern.conf"
	id_as vm "$SM" -C "$T/dest/etc/postern/postern.conf" -bv root </dev/null
	[ $? -ne 78 ] || fail "the installed config is refused: $(cat "$T/id.err")"
	id_install vm
	grep -q '^hostname' "$T/dest/etc/postern/postern.conf" && fail "hostname written for a host called vm"
	grep -q 'no fully qualified name ("vm"): set hostname in .*/postern.conf' "$T/id.out" ||
		fail "not told about the missing FQDN: $(cat "$T/id.out")"
	# an existing postern.conf is kept as it is
	printf 'spool /x\n' >"$T/dest/etc/postern/postern.conf"
	id_as mail.postern.example sh "$HERE/../../conf/install.sh" "$BUILD" "$T/dest" /usr/sbin /etc \
		/var/spool/postern /usr/share/man /usr/lib/postern /usr/bin || fail "reinstall exited $?"
	expect_eq "kept" "spool /x" "$(cat "$T/dest/etc/postern/postern.conf")"
}

# id_aligned FILE - FILE comes From MAILER-DAEMON@postern.example, every DKIM signature has that
# d=, they verify, and (when Mail::DMARC is installed) DMARC passes under the world's strict policy
# for postern.example (_dmarc: p=reject; adkim=s; aspf=s).
id_aligned() {
	local f=$1 what=$2 d
	expect_eq "$what: From" "Mail Delivery System <MAILER-DAEMON@postern.example>" "$(header "$f" From)"
	for d in $(sed -e 's/\r$//' -e '/^$/q' "$f" | tr -d '\n\t ' | grep -o 'DKIM-Signature:[^:]*' |
		grep -o ';d=[^;]*' | cut -c4-); do
		expect_eq "$what: DKIM d=" postern.example "$d"
	done
	expect_dkim "$f"
	if perl -MMail::DMARC::PurePerl -e1 2>/dev/null; then
		perl "$HERE/maildmarc.pl" <"$f" >&2 || fail "$what: DMARC does not pass under adkim=s; p=reject"
	fi
}

test_identity_bounce_aligned() {	# a bounce and a delay warning come From the domain that signs them
	postern_env "delay_warning 1"
	smtpd_start mxp 127.0.0.15:25 || fail "start"
	faultsmtpd_start f 127.0.0.13:25 --reply "rcpt=450 try later" || fail "start f"
	msg "Sender <sender@postern.example>" x@nullmx.example "bounce me" | submit -f sender@postern.example -t -i
	msg "Sender <sender@postern.example>" later@implicit.example "delay me" |
		submit -f sender@postern.example -t -i
	sleep 2
	queue_run 3
	wait_mail mxp 2 || fail "no bounce and warning: $(mail_count mxp) stored"
	local i f subj
	for i in 1 2; do
		f=$(mail_file mxp "$i")
		subj=$(header "$f" Subject)
		expect_eq "notice $i envelope sender" "<>" "$(env_get mxp "$i" mail_from)"
		id_aligned "$f" "$subj"
	done
	grep -qh '^Subject: Undelivered' "$T/mail/mxp/"*.eml || fail "no bounce"
	grep -qh '^Subject: Delayed' "$T/mail/mxp/"*.eml || fail "no delay warning"
}


# id_sub_note - how many times the last pm's stderr (-v mirrors the log) carries the parent-key note
# (the queue run that signs logs it).
id_sub_note() {
	grep -c "From domain shop.postern.example signed with the parent domain's key (d=postern.example): strict DKIM alignment would fail; add a dkim line for shop.postern.example" "$T/pm.err"
}

test_identity_subdomain_parent_key() {	# From a subdomain: the parent's key signs, logged once; its own wins
	postern_env
	smtpd_start mx1 127.0.0.11:25 || fail "start"
	msg "App <app@shop.postern.example>" u1@mx-pref.example "subdomain" | submit -t -i
	pm -v -q </dev/null || fail "sendmail -v -q exited $?"
	expect_eq "parent-key notes" 1 "$(id_sub_note)"
	wait_mail mx1 1 || fail "not delivered"
	local f
	f=$(mail_file mx1 1)
	expect_eq "d= with the parent's key" "postern.example postern.example" \
		"$(sed -e 's/\r$//' -e '/^$/q' "$f" | tr -d '\n\t ' | grep -o ';d=[^;]*' | cut -c4- | tr '\n' ' ' | sed 's/ $//')"
	expect_dkim "$f"
	# a dkim line for the subdomain itself: accepted, preferred, and no note
	dns_add postern.example "shop._domainkey.shop 300 TXT $(dkim_txt "$WORK/keys/dkim-rsa.pem" rsa)" || fail "dns_add"
	printf 'dkim shop.postern.example shop %s\n' "$WORK/keys/dkim-rsa.pem" >>"$CONF"
	msg "App <app@shop.postern.example>" u2@mx-pref.example "own key" | submit -t -i
	pm -v -q </dev/null || fail "sendmail -v -q exited $?"
	expect_eq "parent-key notes with its own key" 0 "$(id_sub_note)"
	wait_mail mx1 2 || fail "not delivered (2)"
	f=$(grep -l '^Subject: own key' "$T/mail/mx1/"*.eml)
	expect_eq "d= with its own key" "shop.postern.example" \
		"$(sed -e 's/\r$//' -e '/^$/q' "$f" | tr -d '\n\t ' | grep -o ';d=[^;]*' | cut -c4-)"
	verify_dkimpy "$f" || fail "dkimpy rejects the subdomain's signature"
	# a From in the parent domain itself: no note
	msg "A <a@postern.example>" u3@mx-pref.example "parent" | submit -t -i
	pm -v -q </dev/null || fail "sendmail -v -q exited $?"
	expect_eq "notes for the parent's own From" 0 "$(grep -c 'parent domain' "$T/pm.err")"
}

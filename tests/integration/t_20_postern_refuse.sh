# t_20_postern_refuse.sh - what postern must refuse, with the exit code (sysexits) and an untouched
# spool: file and debug flags from a hostile caller (PHP's mail() passes extra arguments), unknown
# flags, CR/LF in the envelope sender, no recipients.

# refuse_test WANT_RC ARGS... - submitting a valid message with ARGS exits WANT_RC, says why on
# stderr, and leaves the spool untouched.
refuse_test() {
	local want=$1 before rc
	shift
	postern_env
	before=$(spool_listing)
	msg "a@postern.example" "r@mx-pref.example" "refuse" | pm "$@"
	rc=$?
	expect_eq "exit status of sendmail $*" "$want" "$rc"
	[ -s "$T/pm.err" ] || fail "no reason on stderr"
	expect_spool_untouched "$before"
}

test_postern_refuse_X() {
	refuse_test 64 -X "$T/x.log" -t -i
	[ -e "$T/x.log" ] && fail "-X created its file"
	return 0
}
test_postern_refuse_d0() { refuse_test 64 -d0 -t -i; }
test_postern_refuse_oQ() { refuse_test 64 -oQ"$T/q" -t -i; }
test_postern_refuse_unknown_flag() { refuse_test 64 -Z -t -i; }
test_postern_refuse_crlf_sender() { refuse_test 64 -f $'a@postern.example\r\nRCPT TO:<evil@mx-pref.example>' -t -i; }
test_postern_refuse_lf_sender() { refuse_test 64 -f $'a@postern.example\nx' -t -i; }

test_postern_no_recipients() {
	local before rc
	postern_env
	before=$(spool_listing)
	printf 'From: a@postern.example\nSubject: nobody\n\nbody\n' | pm -t -i
	rc=$?
	expect_eq "exit status" 65 "$rc"
	expect_spool_untouched "$before"
}

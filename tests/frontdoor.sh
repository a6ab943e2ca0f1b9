#!/bin/sh
# frontdoor.sh SENDMAIL [POSTERN] - the front door links no OpenSSL (issue 10, DESIGN.md) and nothing
# but libc: SENDMAIL's dynamic section needs neither libssl nor libcrypto (nor libbsd), and it refers
# to no OpenSSL symbol (none could be linked in statically either: the names would be defined, so
# every symbol table is searched), and is position-independent. With POSTERN, the control: postern does need libssl, so a check
# that cannot see a library fails here.
# Exit 1 naming what was found. Run by `make lint`, the integration world and tests/deb.
ossl='(SSL_|EVP_|OPENSSL_|ERR_|X509_|BIO_|RSA_|PEM_|CRYPTO_|BN_|OSSL_)[A-Za-z0-9_]*'
rc=0
sm=${1:?usage: frontdoor.sh SENDMAIL [POSTERN]}
[ -f "$sm" ] || { echo "frontdoor: $sm: no such file" >&2; exit 1; }
if readelf -d "$sm" | grep -E 'NEEDED.*\[lib(ssl|crypto)\.'; then
	echo "frontdoor: $sm needs libssl or libcrypto" >&2
	rc=1
fi
# nothing but libc (and libresolv, libc6's own, where the linker keeps it; a sanitiser's runtime in
# an ASan build): each library is load time on every submission, and libbsd would bring libmd along
if readelf -d "$sm" | grep -E 'NEEDED' | grep -vE '\[(libc\.so\.6|libresolv\.so\.2|libasan\.so\.[0-9]+|libubsan\.so\.[0-9]+|libm\.so\.6|libstdc\+\+\.so\.6|libgcc_s\.so\.1)\]'; then
	echo "frontdoor: $sm needs a library besides libc" >&2
	rc=1
fi
# position-independent either way (a set-group-id program gets ASLR): a dynamic PIE or musl's static-pie
if ! readelf -h "$sm" | grep -qE 'Type: +DYN'; then
	echo "frontdoor: $sm is not position-independent (readelf -h: $(readelf -h "$sm" | grep Type:))" >&2
	rc=1
fi
if nm -D "$sm" 2>/dev/null | grep -E " [A-Za-z] $ossl" || nm "$sm" 2>/dev/null | grep -E " [A-Za-z] $ossl"; then
	echo "frontdoor: $sm refers to OpenSSL symbols" >&2
	rc=1
fi
if [ -n "${2:-}" ] && ! readelf -d "$2" | grep -qE 'NEEDED.*\[libssl\.'; then
	# (postern built with OPENSSL=static has it inside: then look for the symbols instead)
	nm "$2" 2>/dev/null | grep -qE " T SSL_connect$" || {
		echo "frontdoor: control failed: $2 shows no libssl either (is readelf or nm broken?)" >&2
		rc=1
	}
fi
if readelf -l "$sm" | grep -q 'Requesting program interpreter'; then how="only libc"; else how="static-pie"; fi
[ "$rc" -eq 0 ] && echo "frontdoor: $sm links no OpenSSL, $how"
exit "$rc"

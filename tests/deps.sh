#!/bin/sh
# deps.sh - make sure the Debian packages that build and test postern are installed.
# As root, missing ones are installed with apt-get; otherwise the exact command is printed.
pkgs="build-essential pkg-config musl-tools libssl-dev libbsd-dev libpsl5 publicsuffix libcriterion-dev clang libclang-rt-14-dev
      nsd bind9-dnsutils python3 python3-aiosmtpd python3-dkim python3-nacl python3-dnspython opendkim-tools
      libmail-dkim-perl libmail-dmarc-perl libcryptx-perl libnet-dns-perl iproute2 util-linux openssl swaks procps
      python3-spf python3-yaml spamassassin"
# "demo": only what make demo needs
[ "${1:-}" = demo ] && pkgs="build-essential pkg-config musl-tools libssl-dev libbsd-dev python3 python3-aiosmtpd
      python3-dkim python3-nacl openssl"
missing=
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" -eq 0 ]; then
	echo "deps: installing$missing"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq >/dev/null && apt-get install -y -qq --no-install-recommends $missing >/dev/null ||
		{ echo "deps: apt-get install failed" >&2; exit 1; }
else
	echo "deps: missing packages; run as root:" >&2
	echo "  apt-get install -y$missing" >&2
	exit 1
fi

#!/bin/sh
# uninstall.sh - remove what install.sh installed (called by `make uninstall`).
#
# usage: sh conf/uninstall.sh DESTDIR SBINDIR SYSCONFDIR SPOOLDIR MANDIR LIBEXECDIR BINDIR
#
# Removes the two programs (sendmail, postern), their links, the manual pages, the certbot hook and the systemd units. The
# configuration and the spool are removed only when they hold nothing of value (the sample config as
# installed, an aliases file with no entries, empty spool folders); otherwise they are kept and named.
# The postern user and group are kept.
set -e

[ $# -eq 7 ] || { echo "usage: $0 DESTDIR SBINDIR SYSCONFDIR SPOOLDIR MANDIR LIBEXECDIR BINDIR" >&2; exit 64; }
destdir=$1 sbindir=$2 sysconfdir=$3 spooldir=$4 mandir=$5 libexecdir=$6 bindir=$7
top=$(cd "$(dirname "$0")/.." && pwd)
: "$libexecdir"

# the links (to either program: an older install linked runq and postern to sendmail), then the two
for l in "$bindir/mailq" "$bindir/newaliases" "$sbindir/runq" "$sbindir/postern"; do
	if [ -L "$destdir$l" ]; then
		case $(readlink "$destdir$l") in "$sbindir/sendmail" | "$sbindir/postern") rm -f "$destdir$l" ;; esac
	fi
done
for p in "$destdir$sbindir/sendmail" "$destdir$sbindir/postern"; do
	if [ -f "$p" ] && [ ! -L "$p" ] && grep -q postern "$p" 2>/dev/null; then
		rm -f "$p"
	elif [ -e "$p" ]; then
		echo "uninstall: kept $p: it is not postern's"
	fi
done

for s in 5 8; do
	for f in "$top"/man/*."$s"; do
		[ -f "$f" ] && rm -f "$destdir$mandir/man$s/$(basename "$f")"
	done
done
rm -f "$destdir$sysconfdir/letsencrypt/renewal-hooks/deploy/postern"
for f in "$top"/conf/postern-*.service "$top"/conf/postern-*.timer; do
	[ -f "$f" ] && rm -f "$destdir/lib/systemd/system/$(basename "$f")"
done

# configuration: drop only what is unchanged or empty
etc=$destdir$sysconfdir/postern
if [ -f "$etc/postern.conf" ] && cmp -s "$etc/postern.conf" "$top/conf/postern.conf"; then
	rm -f "$etc/postern.conf"
fi
if [ -f "$etc/aliases" ] && ! grep -qv '^[[:space:]]*\(#.*\)\{0,1\}$' "$etc/aliases"; then
	rm -f "$etc/aliases"
fi
if [ -d "$etc" ]; then
	if rmdir "$etc" 2>/dev/null; then :; else
		echo "uninstall: kept $etc (it holds: $(ls -A "$etc" | tr '\n' ' '))"
	fi
fi

# the spool: only empty folders go
sp=$destdir$spooldir
if [ -d "$sp" ]; then
	for d in tmp new deferred data; do
		[ -d "$sp/$d" ] && rmdir "$sp/$d" 2>/dev/null || true
	done
	if rmdir "$sp" 2>/dev/null; then :; else
		echo "uninstall: kept $sp: it still holds mail (mailq lists it)"
	fi
fi
echo "uninstall: done (the postern user and group are kept)"

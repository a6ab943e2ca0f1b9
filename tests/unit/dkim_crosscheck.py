#!/usr/bin/python3
"""dkim_crosscheck.py - sign messages with postern's DKIM code, verify them with dkimpy (python3-dkim).

Run by hand after `make`: /usr/bin/python3 tests/unit/dkim_crosscheck.py [build]
It compiles a tiny signer against BUILD/libpostern.a, signs a set of awkward messages with RSA and
Ed25519 keys in every canonicalisation pair, and checks dkim.verify() accepts each one, and rejects
it once a signed header field or the body is changed. Exit 1 on any failure.
"""
import os, subprocess, sys, tempfile
import dkim

BUILD = sys.argv[1] if len(sys.argv) > 1 else "build"
SIGNER = r'''
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "conf/dkimkey.h"
#include "queue/run/dkim.h"
/* signer KEY DOMAIN SELECTOR HCANON BCANON < message > signed message  (canon: 0 relaxed, 1 simple) */
int main(int argc, char **argv)
{
	static char msg[1 << 20];
	size_t n = fread(msg, 1, sizeof msg, stdin), i = 0, nf = 0;
	struct hdr_field f[256];
	struct err e = { 0 };
	struct buf sig, b64, txt;
	EVP_PKEY *k;
	unsigned char bh[32], dg[32];
	char *body;
	(void)argc;
	if (dkimkey_load(argv[1], &k, NULL, &e) < 0) { fprintf(stderr, "%s\n", e.msg); return 1; }
	body = strstr(msg, "\r\n\r\n");
	body = body ? body + 4 : msg + n;
	while (msg + i < body - 2) {
		size_t s = i;
		for (;;) { char *c = strstr(msg + i, "\r\n"); i = (size_t)(c - msg) + 2;
			if (msg[i] != ' ' && msg[i] != '\t') break; }
		f[nf].raw = msg + s; f[nf].len = i - s; f[nf].name_len = 0; nf++;
	}
	struct dkim_body *b = dkim_body_new((enum dkim_canon)atoi(argv[5]));
	/* feed in odd-sized chunks */
	for (size_t off = 0, step = 1; off < (size_t)(msg + n - body); off += step, step = step * 3 % 17 + 1)
		dkim_body_update(b, body + off, off + step > (size_t)(msg + n - body) ? (size_t)(msg + n - body) - off : step);
	dkim_body_final(b, bh);
	dkim_body_free(b);
	struct dkim_sig_params p = { argv[2], argv[3], dkimkey_alg(k), (enum dkim_canon)atoi(argv[4]),
		(enum dkim_canon)atoi(argv[5]), 1700000000, 0, NULL };
	buf_init(&sig, LIM_DKIM_SIGHDR); buf_init(&b64, 4096); buf_init(&txt, 4096);
	if (dkim_sig_prepare(&p, f, nf, bh, &sig, dg, &e) < 0 || dkimkey_sign(k, dg, &b64, &e) < 0 ||
	    dkim_sig_finish(&sig, buf_str(&b64), &e) < 0 || dkimkey_record(k, &txt, &e) < 0) {
		fprintf(stderr, "%s\n", e.msg); return 1; }
	fprintf(stderr, "%s", buf_str(&txt));
	fwrite(sig.data, 1, sig.len, stdout);
	fwrite(msg, 1, n, stdout);
	return 0;
}
'''

MESSAGES = [
    b"From: Joe SixPack <joe@football.example.com>\r\nTo: Suzie Q <suzie@shopping.example.net>\r\n"
    b"Subject: Is dinner ready?\r\nDate: Fri, 11 Jul 2003 21:00:37 -0700 (PDT)\r\n"
    b"Message-ID: <20030712040037.46341.5F8J@football.example.com>\r\n\r\n"
    b"Hi.\r\n\r\nWe lost the game.  Are you hungry yet?\r\n\r\nJoe.\r\n",
    # empty body, folded and oddly spaced fields, mixed-case names, repeated fields
    b"FROM:  a@example.com \t\r\nsubject: one\r\n\ttwo   three \r\nTo: x@y.example,\r\n  z@w.example\r\n"
    b"Received: by a\r\nReceived: by b\r\nX-A: 1\r\nx-a: 2\r\n\r\n",
    # trailing WSP and empty lines, 8-bit, no final CRLF
    b"From: a@example.com\r\nSubject: =?utf-8?q?caf=C3=A9?=\r\nContent-Type: text/plain; charset=utf-8\r\n"
    b"MIME-Version: 1.0\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
    b"caf\xc3\xa9  \t \r\n \t\r\n\r\nline  with   runs\t\t\r\n\r\n\r\n\r\nlast",
    # only empty lines in the body
    b"From: a@example.com\r\nDate: Mon, 1 Jan 2024 00:00:00 +0000\r\n\r\n\r\n\r\n  \r\n",
]


def main():
    tmp = tempfile.mkdtemp(prefix="dkimcc")
    src = os.path.join(tmp, "signer.c")
    exe = os.path.join(tmp, "signer")
    open(src, "w").write(SIGNER)
    libs = subprocess.run(["pkg-config", "--libs", "openssl", "libbsd"], capture_output=True,
                          text=True).stdout.split()
    subprocess.run(["cc", "-std=c17", "-D_GNU_SOURCE", "-I.", "-o", exe, src,
                    os.path.join(BUILD, "libpostern.a")] + libs + ["-lresolv"], check=True)
    keys = {}
    for name, args in (("rsa", ["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"]),
                       ("ed", ["-algorithm", "ED25519"])):
        path = os.path.join(tmp, name + ".key")
        subprocess.run(["openssl", "genpkey"] + args + ["-out", path], check=True, capture_output=True)
        os.chmod(path, 0o600)
        keys[name] = path
    fails = total = 0
    for mi, msg in enumerate(MESSAGES):
        for kname, kpath in keys.items():
            for hc in (0, 1):
                for bc in (0, 1):
                    total += 1
                    r = subprocess.run([exe, kpath, "example.com", "sel", str(hc), str(bc)], input=msg,
                                       capture_output=True)
                    if r.returncode != 0:
                        print("signer failed", mi, kname, r.stderr); fails += 1; continue
                    record = r.stderr
                    signed = r.stdout
                    dns = lambda name, timeout=5: record if name == b"sel._domainkey.example.com." else None
                    ok = dkim.verify(signed, dnsfunc=dns)
                    # tamper: body and a signed header
                    bad_body = dkim.verify(signed + b"tampered\r\n", dnsfunc=dns)
                    bad_hdr = dkim.verify(signed.replace(b"a@example.com", b"b@example.com", 1)
                                          if b"a@example.com" in signed else
                                          signed.replace(b"Suzie", b"Susie", 1), dnsfunc=dns)
                    # over-signing: a From or Subject added on top of the signed header must fail
                    added = signed.replace(b"\r\n\r\n", b"\r\nSubject: added\r\n\r\n", 1)
                    bad_add = dkim.verify(added, dnsfunc=dns)
                    tag = "msg %d %s c=%s/%s" % (mi, kname, "rs"[hc], "rs"[bc])
                    if ok and not bad_body and not bad_hdr and not bad_add:
                        print("ok  ", tag)
                    else:
                        fails += 1
                        print("FAIL", tag, ok, bad_body, bad_hdr, bad_add)
                        sys.stdout.buffer.write(signed[:600] + b"\n")
    print("crosscheck: %d passed, %d failed" % (total - fails, fails))
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())

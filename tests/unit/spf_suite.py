#!/usr/bin/env python3
"""spf_suite.py [SUITE.yml[.gz]] - flatten the openspf RFC 7208 test suite (python3-spf ships it)
for tests/unit/test_spf_suite.c: one tab-separated line per zone record and per scenario.

  C                                    a new scenario group: forget the zone
  Z  NAME  TYPE  VALUE                 TYPE: TXT A AAAA MX PTR CNAME TIMEOUT (MX: by preference)
                                       or MALFORMED (a TXT holding NUL, which lib/dns refuses)
  S  GROUP/NAME  IP  MAILFROM  HELO  RESULT[,RESULT...]  EXPLANATION (empty: not checked)

As the suite's own drivers do, type SPF (99) records stand in for TXT where a name has no TXT
(RFC 7208 dropped type SPF; the "Selecting records" group relies on this). Tabs, newlines and
backslashes in values are escaped as \\t \\n \\r \\\\; other bytes are written as Latin-1."""
import gzip
import sys

import yaml

DEFAULT = "/usr/share/doc/python3-spf/rfc7208-tests.yml.gz"


def esc(s):
    s = str(s)
    s = s.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    try:
        return s.encode("latin-1")
    except UnicodeEncodeError:
        return s.encode("utf-8")


def line(out, *fields):
    out.write(b"\t".join(f if isinstance(f, bytes) else esc(f) for f in fields) + b"\n")


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else DEFAULT
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        docs = list(yaml.safe_load_all(f))
    out = sys.stdout.buffer
    for doc in docs:
        if not doc:
            continue
        line(out, "C")
        for name, rrs in (doc.get("zonedata") or {}).items():
            rrs = rrs or []
            has_txt = any(isinstance(r, dict) and "TXT" in r for r in rrs)
            mx = []
            for r in rrs:
                if r == "TIMEOUT":
                    line(out, "Z", name, "TIMEOUT", "")
                    continue
                for t, v in r.items():
                    if t == "SPF":
                        if has_txt:
                            continue
                        t = "TXT"
                    if t == "TXT":
                        if isinstance(v, list):
                            if not v:
                                continue	# null text: no strings at all
                            v = "".join(v)
                        if v == "NONE":	# no TXT record (with TIMEOUT: the TXT query times out)
                            continue
                        # lib/dns refuses a TXT string holding NUL: the answer is malformed
                        line(out, "Z", name, "MALFORMED" if "\0" in v else "TXT", v.replace("\0", ""))
                    elif t == "MX":
                        mx.append((int(v[0]), v[1]))
                    elif t in ("A", "AAAA", "PTR", "CNAME"):
                        line(out, "Z", name, t, v)
                    else:
                        sys.stderr.write("spf_suite: %s: unknown type %s\n" % (name, t))
            for _, host in sorted(mx, key=lambda m: m[0]):
                line(out, "Z", name, "MX", host)
        for tname, t in doc["tests"].items():
            res = t["result"]
            res = ",".join(res) if isinstance(res, list) else res
            line(out, "S", "%s/%s" % (doc["description"], tname), t["host"], t.get("mailfrom", ""),
                 t.get("helo", ""), res, t.get("explanation", ""))


if __name__ == "__main__":
    main()

#!/usr/bin/python3
"""mimeparts.py [--7bit] FILE - print every leaf part of the message in FILE as a reader sees it: a line
"== TYPE" and the part's body with its Content-Transfer-Encoding undone by Python's email package (the
bytes, line ends as LF). With --7bit, exit 1 with a reason when the message holds an octet over 127 or
a line over 998 octets (what a server without 8BITMIME may receive, RFC 6152 section 3)."""
import email
import email.policy
import sys

args = sys.argv[1:]
seven = args[:1] == ['--7bit']
raw = open(args[-1], 'rb').read()
if seven:
    for n, line in enumerate(raw.split(b'\n'), 1):
        if any(c > 127 for c in line):
            sys.exit('line %d has an 8-bit octet: %r' % (n, line[:80]))
        if len(line.rstrip(b'\r')) > 998:
            sys.exit('line %d is %d octets long' % (n, len(line)))
m = email.message_from_bytes(raw, policy=email.policy.default)
out = sys.stdout.buffer
for part in m.walk():
    if part.is_multipart():
        continue
    out.write(b'== ' + part.get_content_type().encode() + b'\n')
    out.write((part.get_payload(decode=True) or b'').replace(b'\r\n', b'\n'))
    out.write(b'\n')

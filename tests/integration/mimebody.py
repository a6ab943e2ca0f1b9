#!/usr/bin/python3
"""mimebody.py FILE [CHARSET] - print the decoded body of the single-part message in FILE, line ends as
LF, the way a reader sees it: Content-Transfer-Encoding undone by Python's email package (the bytes, not
re-coded). Exit 1 with a reason when the message is multipart, has a line over 998 octets, or (with
CHARSET) declares another charset."""
import email
import email.policy
import sys

raw = open(sys.argv[1], 'rb').read()
for n, line in enumerate(raw.split(b'\r\n'), 1):
    if len(line) > 998:
        sys.exit('line %d is %d octets long' % (n, len(line)))
m = email.message_from_bytes(raw, policy=email.policy.default)
if m.is_multipart():
    sys.exit('multipart')
if len(sys.argv) > 2 and (m.get_content_charset() or '').lower() != sys.argv[2].lower():
    sys.exit('charset %r, not %r' % (m.get_content_charset(), sys.argv[2]))
if m.defects:
    sys.exit('defects: %r' % m.defects)
sys.stdout.buffer.write(m.get_payload(decode=True).replace(b'\r\n', b'\n'))

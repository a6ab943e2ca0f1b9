/*
 * limits.h - every ceiling postern enforces, in one place.
 *
 * Going over a limit is an error reported to the caller, never a silent truncation.
 * Each limit says where its number comes from.
 */
#ifndef POSTERN_LIMITS_H
#define POSTERN_LIMITS_H

/* RFC 5322 2.1.1: a line is at most 998 octets, not counting CRLF. */
#define LIM_LINE 998
/* RFC 5321 4.5.3.1.6: a command or text line is at most 1000 octets including CRLF. */
#define LIM_SMTP_LINE 1000
/* RFC 5321 4.5.3.1.5: a reply line is at most 512 octets; we allow some slack for chatty servers. */
#define LIM_REPLY_LINE 2048
/* A multi-line reply (EHLO) with more lines than this is hostile. */
#define LIM_REPLY_LINES 100
/* RFC 5321 4.5.3.1.3: a path (address in angle brackets) is at most 256 octets. */
#define LIM_PATH 256
/* RFC 5321 4.5.3.1.1/2: local part 64, domain 255. */
#define LIM_LOCAL 64
#define LIM_DOMAIN 255
/* The header section of a submitted message (config: max_header_size); default 1 MiB. */
#define LIM_HEADER_DEFAULT (1024 * 1024)
/* How many header fields one message may have. */
#define LIM_HEADER_FIELDS 2000
/* Recipients of one message (RFC 5321 4.5.3.1.8 asks servers for at least 100; we accept more). */
#define LIM_RCPTS 10000
/* A configuration file and an aliases file are read whole, up to: */
#define LIM_CONF_FILE (1024 * 1024)
#define LIM_ALIASES_FILE (16 * 1024 * 1024)
/* An envelope as submitted (the front door's ceiling). A queued envelope grows as outcomes are
 * recorded; the spool reads up to ENV_MAX_FILE (queue/store/envelope.h), derived from this. */
#define LIM_ENVELOPE_FILE (4 * 1024 * 1024)
/* One argv argument (addresses, -F names). */
#define LIM_ARG 4096
/* A DNS answer: TCP responses can reach 64 KiB (RFC 1035 4.2.2). */
#define LIM_DNS_ANSWER 65535
/* MX hosts tried per destination, A records used per MX host. */
#define LIM_MX_HOSTS 16
#define LIM_A_PER_HOST 8
/* CNAME chain length followed before giving up (loops). */
#define LIM_CNAME_CHAIN 8
/* A DKIM private key file. */
#define LIM_KEY_FILE (64 * 1024)
/* A single log line after escaping. */
#define LIM_LOG_LINE 2048
/* The DKIM-Signature field the queue side builds: a long h= list and an 8192-bit b= stay well under
 * this; and the keys that sign one message (the dkim lines of one domain that are used). */
#define LIM_DKIM_SIGHDR 16384
#define LIM_DKIM_SIGS 8
/* What signing adds to an envelope at most: LIM_DKIM_SIGS DKIM-Signature fields. The front door keeps
 * this much of LIM_ENVELOPE_FILE free, so a signed envelope still fits what the spool reads back. */
#define LIM_SIGN_RESERVE ((size_t)LIM_DKIM_SIGS * LIM_DKIM_SIGHDR)

#endif

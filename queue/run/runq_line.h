/*
 * runq_line.h - the lines between the queue runner and its delivery workers: one pure codec that both
 * sides use, with its limits named once.
 *
 * NAME
 *	runq_line - parse and format the runner <-> worker pipe records
 * DESCRIPTION
 *	Runner to worker: "M\tMSG" (deliver message MSG, an index into the destination's list), "E"
 *	(nothing more). Worker to runner: "R\tMSG\tRCPT\tS|D|F\tSTATUS\tRELAY\tTLS\tDIAG" (the outcome of
 *	recipient RCPT of a message shared with other destinations), "F\tMSG" (an own message finished),
 *	"U\tMSG" (not attempted: given back untouched), "W" (waiting for a message). Each line ends in
 *	"\n" and is at most RUNQ_LINE_MAX bytes, so one write of it to a pipe is atomic.
 * UNTRUSTED INPUT
 *	A worker parses what the network says, so the runner treats its lines as untrusted: a field may
 *	hold no tab, newline or other control byte, a number is decimal without sign or leading zeros
 *	(but "0"), each text field has its ceiling; anything else is refused whole.
 */
#ifndef POSTERN_RUNQ_LINE_H
#define POSTERN_RUNQ_LINE_H

#include <stddef.h>

/* One line, newline included; under PIPE_BUF (4096), so a pipe write of it is atomic. */
#define RUNQ_LINE_MAX 2048
/* Text fields, NUL included: as struct dlv_result's DLV_*_MAX (deliver.h; runq_worker.c asserts it). */
#define RUNQ_STATUS_MAX 12
#define RUNQ_RELAY_MAX 300
#define RUNQ_TLS_MAX 64
#define RUNQ_DIAG_MAX 600
/* Message and recipient indexes are below this (a batch and a message's recipients are smaller). */
#define RUNQ_INDEX_MAX 1000000000UL

enum runq_kind {
	RUNQ_L_MSG = 'M',	/* runner: deliver msg */
	RUNQ_L_END = 'E',	/* runner: nothing more */
	RUNQ_L_RESULT = 'R',	/* worker: a recipient's outcome (state S, D or F) */
	RUNQ_L_FINISHED = 'F',	/* worker: an own message finished */
	RUNQ_L_UNTRIED = 'U',	/* worker: not attempted */
	RUNQ_L_WAIT = 'W',	/* worker: waiting for a message */
};

struct runq_line {
	enum runq_kind kind;
	unsigned long msg, rcpt;	/* msg: M, R, F, U; rcpt: R */
	char state;			/* R: 'S', 'D' or 'F' */
	char status[RUNQ_STATUS_MAX], relay[RUNQ_RELAY_MAX], tls[RUNQ_TLS_MAX], diag[RUNQ_DIAG_MAX];	/* R */
};

/* runq_line_parse - one line (without its "\n") into *l. 0, or -1 if it is not exactly one of the
 * forms above. Pure. */
int runq_line_parse(const char *buf, size_t len, struct runq_line *l);

/* runq_line_format - *l as one line with its "\n" into out (at least RUNQ_LINE_MAX bytes). The length,
 * or -1 when a field would not parse back (a control byte, too long, a bad state or kind). Pure. */
int runq_line_format(const struct runq_line *l, char *out, size_t outsz);

#endif

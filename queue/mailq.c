/* TEMPORARY stand-in until the spool branch lands: prints only the empty-queue line. */
#include "queue/mailq.h"
int mailq_print(struct spool *s, FILE *out, struct err *e) { (void)s; (void)e; fputs("Mail queue is empty\n", out); return 0; }

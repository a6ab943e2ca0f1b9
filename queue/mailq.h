#include <stdio.h>
#include "queue/spool.h"
int mailq_print(struct spool *s, FILE *out, struct err *e);

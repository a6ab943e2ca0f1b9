/* stray.c - a file of queue/ in no family (an offence) */
#include "queue/run/high.h"

/*
 * clock.c - see clock.h.
 */
#include "lib/clock.h"

#include <time.h>

/* now_ms - see clock.h */
long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * clock.h - the one monotonic clock the deadlines, stall timers and pacing read.
 *
 * Wall-clock time (time(2)) is for what is recorded (arrival, next try); anything measured between two
 * moments of one process reads this clock, which no settimeofday or NTP step moves.
 */
#ifndef POSTERN_CLOCK_H
#define POSTERN_CLOCK_H

/* now_ms - CLOCK_MONOTONIC in milliseconds. */
long long now_ms(void);

#endif

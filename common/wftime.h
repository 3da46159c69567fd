/*
 * wftime.h - wall-clock time as epoch seconds (double), and its ISO-8601 text.
 */
#ifndef WF_WFTIME_H
#define WF_WFTIME_H

#include <stddef.h>

/* Seconds since the epoch, with sub-millisecond precision. */
double wftime_now(void);
/* Milliseconds on the monotonic clock (for durations and timers). */
double wftime_monotonic_ms(void);
/* "2026-11-27T14:36:22.123Z" into buf (at least 32 bytes). Returns buf. */
char *wftime_iso(double epoch, char *buf, size_t size);

#endif

/*
 * jl_time.h - ISO-8601 timestamps for the JSON Logic date operators and for
 * the engine's delay node.
 *
 * Accepted: "YYYY-MM-DD", or that date with "T" (or a space, as PostgreSQL
 * prints timestamptz) and "HH:MM", "HH:MM:SS" or "HH:MM:SS.fraction", then
 * optionally "Z" or an offset "+HH", "+HHMM", "+HH:MM". A time without an
 * offset is UTC (the servers run in UTC; a browser would use its own zone).
 * Years 0000 to 9999 only.
 */
#ifndef WF_JL_TIME_H
#define WF_JL_TIME_H

#include <stddef.h>
#include <stdint.h>

/* Room for "YYYY-MM-DDTHH:MM:SS.sssZ" and its NUL. */
#define JL_TIME_MAX 25

/*
 * Parses a NUL-terminated timestamp into seconds since the epoch, fraction
 * included (to the nanosecond). Returns 0, or -EINVAL when iso is NULL or
 * not a valid timestamp (then *epoch_seconds is untouched).
 */
int jl_parse_time(const char *iso, double *epoch_seconds);

/*
 * Parses len bytes (no NUL needed) into whole milliseconds since the epoch,
 * digits past the millisecond dropped as JavaScript's Date does. Returns 0 or
 * -EINVAL.
 */
int jl_time_parse_ms(const char *s, size_t len, int64_t *ms);

/*
 * Writes ms as "YYYY-MM-DDTHH:MM:SS.sssZ" (Date#toISOString) into out, which
 * needs JL_TIME_MAX bytes. Returns 0, or -ERANGE outside the years 0000-9999.
 */
int jl_time_format(int64_t ms, char *out);

#endif

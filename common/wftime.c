/*
 * wftime.c - clocks and timestamp text.
 */
#include "wftime.h"

#include <math.h>
#include <stdio.h>
#include <time.h>

double wftime_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

double wftime_monotonic_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000.0 + ts.tv_nsec / 1e6;
}

char *wftime_iso(double epoch, char *buf, size_t size)
{
	time_t secs = (time_t)floor(epoch);
	int ms = (int)((epoch - floor(epoch)) * 1000.0);
	struct tm tm;
	size_t n;

	if (ms > 999)
		ms = 999;
	gmtime_r(&secs, &tm);
	n = strftime(buf, size, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + n, size - n, ".%03dZ", ms);
	return buf;
}

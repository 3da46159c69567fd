/*
 * jl_time.c - ISO-8601 parsing and printing in UTC, without the C library's
 * time zone machinery (timegm() and friends depend on TZ and on the years a
 * time_t can hold; the arithmetic here is plain proleptic Gregorian).
 */
#include "jl_time.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#define MS_PER_DAY INT64_C(86400000)

static const int days_before_month[12] = { 0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334 };

static bool leap_year(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* Days from 0000-01-01 to the first of January of year y (y >= 0). */
static int64_t days_before_year(int64_t y)
{
	/* Leap years among 0 .. y-1: multiples of 4, less those of 100, plus those of 400. */
	return 365 * y + (y + 3) / 4 - (y + 99) / 100 + (y + 399) / 400;
}

static int days_in_month(int64_t y, int m)
{
	static const int days[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	return m == 2 && leap_year(y) ? 29 : days[m - 1];
}

/* Days since 1970-01-01 of a valid date. */
static int64_t days_from_civil(int64_t y, int m, int d)
{
	int64_t days = days_before_year(y) + days_before_month[m - 1] + d - 1;

	if (m > 2 && leap_year(y))
		days++;
	return days - days_before_year(1970);
}

static int64_t min_ms(void)
{
	return -days_before_year(1970) * MS_PER_DAY;
}

static int64_t max_ms(void)
{
	return (days_before_year(10000) - days_before_year(1970)) * MS_PER_DAY - 1;
}

/* Reads exactly n digits at s[*i]; false when any is not a digit. */
static bool digits(const char *s, size_t len, size_t *i, int n, int *out)
{
	int v = 0;

	if (len - *i < (size_t)n)
		return false;
	for (int k = 0; k < n; k++) {
		char c = s[*i + (size_t)k];

		if (c < '0' || c > '9')
			return false;
		v = v * 10 + (c - '0');
	}
	*i += (size_t)n;
	*out = v;
	return true;
}

static bool expect(const char *s, size_t len, size_t *i, char c)
{
	if (*i < len && s[*i] == c) {
		(*i)++;
		return true;
	}
	return false;
}

/* Parses into whole seconds since the epoch and nanoseconds (0..999999999). */
static int parse(const char *s, size_t len, int64_t *sec, long *nsec)
{
	int year, month, day, hour = 0, minute = 0, second = 0;
	long frac = 0;
	int offset = 0; /* minutes east of UTC */
	size_t i = 0;
	int64_t t;

	if (!digits(s, len, &i, 4, &year) || !expect(s, len, &i, '-') ||
	    !digits(s, len, &i, 2, &month) || !expect(s, len, &i, '-') ||
	    !digits(s, len, &i, 2, &day))
		return -EINVAL;
	if (month < 1 || month > 12 || day < 1 || day > days_in_month(year, month))
		return -EINVAL;
	if (i < len) {
		if (s[i] != 'T' && s[i] != 't' && s[i] != ' ')
			return -EINVAL;
		i++;
		if (!digits(s, len, &i, 2, &hour) || !expect(s, len, &i, ':') ||
		    !digits(s, len, &i, 2, &minute))
			return -EINVAL;
		if (expect(s, len, &i, ':')) {
			if (!digits(s, len, &i, 2, &second))
				return -EINVAL;
			if (i < len && (s[i] == '.' || s[i] == ',')) {
				long scale = 100000000;
				size_t start = ++i;

				for (; i < len && s[i] >= '0' && s[i] <= '9'; i++) {
					frac += (s[i] - '0') * scale;
					scale /= 10;
				}
				if (i == start)
					return -EINVAL;
			}
		}
		if (hour > 23 || minute > 59 || second > 59)
			return -EINVAL;
		if (i < len && (s[i] == 'Z' || s[i] == 'z')) {
			i++;
		} else if (i < len && (s[i] == '+' || s[i] == '-')) {
			int sign = s[i++] == '-' ? -1 : 1;
			int oh, om = 0;

			if (!digits(s, len, &i, 2, &oh))
				return -EINVAL;
			if (i < len) {
				expect(s, len, &i, ':');
				if (!digits(s, len, &i, 2, &om))
					return -EINVAL;
			}
			if (oh > 23 || om > 59)
				return -EINVAL;
			offset = sign * (oh * 60 + om);
		}
		if (i != len)
			return -EINVAL;
	}
	t = days_from_civil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second -
	    (int64_t)offset * 60;
	if (t * 1000 < min_ms() || t * 1000 > max_ms())
		return -EINVAL;
	*sec = t;
	*nsec = frac;
	return 0;
}

int jl_parse_time(const char *iso, double *epoch_seconds)
{
	int64_t sec;
	long nsec;

	if (iso == NULL || parse(iso, strlen(iso), &sec, &nsec) < 0)
		return -EINVAL;
	*epoch_seconds = (double)sec + (double)nsec / 1e9;
	return 0;
}

int jl_time_parse_ms(const char *s, size_t len, int64_t *ms)
{
	int64_t sec;
	long nsec;

	if (parse(s, len, &sec, &nsec) < 0)
		return -EINVAL;
	*ms = sec * 1000 + nsec / 1000000;
	return 0;
}

int jl_time_format(int64_t ms, char *out)
{
	int64_t days, rem, y, doy;
	int month = 1;
	char text[64];

	if (ms < min_ms() || ms > max_ms())
		return -ERANGE;
	/* Floor division: times before 1970 belong to the day that starts before them. */
	days = ms / MS_PER_DAY;
	rem = ms % MS_PER_DAY;
	if (rem < 0) {
		rem += MS_PER_DAY;
		days--;
	}
	days += days_before_year(1970);
	y = days / 366;
	while (days_before_year(y + 1) <= days)
		y++;
	doy = days - days_before_year(y);
	while (month < 12) {
		int64_t next = days_before_month[month] + (month >= 2 && leap_year(y) ? 1 : 0);

		if (doy < next)
			break;
		month++;
	}
	doy -= days_before_month[month - 1] + (month > 2 && leap_year(y) ? 1 : 0);
	/* The fields are in range by now; the larger buffer only quiets -Wformat-truncation. */
	snprintf(text, sizeof(text), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", (int)y, month,
		 (int)doy + 1, (int)(rem / 3600000), (int)(rem / 60000 % 60), (int)(rem / 1000 % 60),
		 (int)(rem % 1000));
	memcpy(out, text, JL_TIME_MAX - 1);
	out[JL_TIME_MAX - 1] = '\0';
	return 0;
}

/*
 * cron.c - parsing and matching cron schedules.
 */
#include "cron.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef struct {
	const char *name;
	int min, max;
	const char *const *names; /* names[i] is value min + i */
} field_t;

static const char *const month_names[] = { "jan", "feb", "mar", "apr", "may", "jun",
					   "jul", "aug", "sep", "oct", "nov", "dec", NULL };
static const char *const day_names[] = { "sun", "mon", "tue", "wed", "thu", "fri", "sat", NULL };

static const field_t fields[5] = {
	{ "minute", 0, 59, NULL },
	{ "hour", 0, 23, NULL },
	{ "day of month", 1, 31, NULL },
	{ "month", 1, 12, month_names },
	/* 7 is Sunday too, folded into 0 below. */
	{ "day of week", 0, 7, day_names },
};

/* A number or a name at *p; advances p. -1 when neither. */
static int parse_value(const field_t *f, const char **p)
{
	if (isdigit((unsigned char)**p)) {
		char *end;
		long v = strtol(*p, &end, 10);

		*p = end;
		return v < f->min || v > f->max ? -1 : (int)v;
	}
	for (int i = 0; f->names && f->names[i]; i++) {
		if (strncasecmp(*p, f->names[i], 3) == 0 && !isalpha((unsigned char)(*p)[3])) {
			*p += 3;
			return f->min + i;
		}
	}
	return -1;
}

/* Parses one comma-separated field into a bit set. */
static int parse_field(const field_t *f, const char *text, uint64_t *bits, bool *any)
{
	const char *p = text;

	*bits = 0;
	/*
	 * As in Vixie cron, a field that starts with "*" (also "*" with a
	 * step) counts as unrestricted: for the either-day rule, and in the
	 * minute or hour field for the DST rules (cron.h).
	 */
	*any = text[0] == '*';
	for (;;) {
		int lo, hi, step = 1;
		bool single = false;

		if (*p == '*') {
			lo = f->min;
			hi = f->max;
			p++;
		} else {
			if ((lo = parse_value(f, &p)) < 0)
				return -1;
			hi = lo;
			single = true;
			if (*p == '-') {
				p++;
				if ((hi = parse_value(f, &p)) < 0 || hi < lo)
					return -1;
				single = false;
			}
		}
		if (*p == '/') {
			char *end;
			long v = strtol(p + 1, &end, 10);

			/* Checked as a long: a cast first would wrap 4294967297 to 1. */
			if (end == p + 1 || v < 1 || v > f->max)
				return -1;
			step = (int)v;
			p = end;
			/* "5/15" means from 5 to the end in steps of 15. */
			if (single)
				hi = f->max;
		}
		for (int v = lo; v <= hi; v += step)
			*bits |= 1ULL << v;
		if (*p == '\0')
			return 0;
		if (*p++ != ',')
			return -1;
	}
}

int cron_parse(const char *text, cron_t *out, char *err, size_t errlen)
{
	char buf[256];
	char *parts[6];
	char *save = NULL;
	uint64_t bits[5];
	bool any[5];
	int n = 0;

	if (text == NULL || strlen(text) >= sizeof(buf)) {
		snprintf(err, errlen, "a cron schedule is five fields: minute hour day month weekday");
		return -1;
	}
	strcpy(buf, text);
	for (char *tok = strtok_r(buf, " \t", &save); tok && n < 6; tok = strtok_r(NULL, " \t", &save))
		parts[n++] = tok;
	if (n != 5) {
		snprintf(err, errlen, "a cron schedule is five fields (minute hour day month weekday), not %d", n);
		return -1;
	}
	for (int i = 0; i < 5; i++) {
		if (parse_field(&fields[i], parts[i], &bits[i], &any[i]) < 0) {
			snprintf(err, errlen, "invalid %s field \"%s\" in cron schedule", fields[i].name, parts[i]);
			return -1;
		}
	}
	if (bits[4] & (1ULL << 7))
		bits[4] = (bits[4] | 1ULL) & 0x7f;
	out->minutes = bits[0];
	out->hours = (uint32_t)bits[1];
	out->days = (uint32_t)bits[2];
	out->months = (uint16_t)bits[3];
	out->weekdays = (uint8_t)bits[4];
	out->days_any = any[2];
	out->weekdays_any = any[4];
	out->wildcard = any[0] || any[1];
	return 0;
}

bool cron_matches(const cron_t *c, int minute, int hour, int day, int month, int weekday)
{
	bool day_ok = c->days & (1U << day);
	bool weekday_ok = c->weekdays & (1U << weekday);
	bool date_ok;

	if (!(c->minutes & (1ULL << minute)) || !(c->hours & (1U << hour)) || !(c->months & (1U << month)))
		return false;
	if (c->days_any || c->weekdays_any)
		date_ok = day_ok && weekday_ok;
	else
		date_ok = day_ok || weekday_ok;
	return date_ok;
}

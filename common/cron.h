/*
 * cron.h - five-field cron schedules ("minute hour day-of-month month
 * day-of-week"), as in crontab(5): numbers, *, lists, ranges, steps, and
 * month and weekday names. When both day fields are restricted, a day
 * matches if either does, as Vixie cron does; a field that starts with "*"
 * (also "*" with a step) counts as unrestricted there, as in Vixie cron.
 *
 * Across a DST change, Vixie cron and cronie treat a schedule whose minute
 * or hour field starts with "*" (a "wildcard" one, "0 * * * *") apart from
 * a fixed-time one ("30 2 * * *"): the wildcard one simply runs by the new
 * wall clock, while a fixed-time one runs once in a repeated hour and, when
 * its time is skipped, right after the jump. cron_t.wildcard tells the
 * caller which rule applies (coordinator/cron_job.c applies them).
 */
#ifndef WF_CRON_H
#define WF_CRON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
	uint64_t minutes;	/* bit n: minute n (0-59) */
	uint32_t hours;		/* 0-23 */
	uint32_t days;		/* bit n: day of month n (1-31) */
	uint16_t months;	/* bit n: month n (1-12) */
	uint8_t weekdays;	/* bit n: weekday n (0-6, Sunday = 0) */
	bool days_any;		/* the day-of-month field starts with "*" */
	bool weekdays_any;	/* the day-of-week field starts with "*" */
	bool wildcard;		/* the minute or the hour field starts with "*" */
} cron_t;

/* Parses text; 0, or -1 with the reason (naming the field) in err. */
int cron_parse(const char *text, cron_t *out, char *err, size_t errlen);

/* Does the schedule fire at this local time (weekday 0-6, Sunday = 0)? */
bool cron_matches(const cron_t *c, int minute, int hour, int day, int month, int weekday);

#endif
